namespace Dlc.Runtime.Data;

/// <summary>
/// The Brown Corpus's own part-of-speech tags (87 base tags, compounded: `np-tl`, `pps+bez`, `fw-nn`) mapped to the
/// 12 coarse tags of the universal tagset of Petrov, Das and McDonald, "A Universal Part-of-Speech Tagset" (LREC
/// 2012, arXiv:1104.2086). The table is their en-brown.map as NLTK ships it (taggers/universal_tagset/en-brown.map,
/// used by <c>nltk.corpus.brown.tagged_words(tagset="universal")</c>): every tag of the corpus is listed, and a tag
/// that is not (there is none in the 1.16 M words) maps to X, as NLTK's map_tag does. With it the corpus counts
/// NOUN 275,558, VERB 182,750, . 147,565, ADP 144,766, DET 137,019, ADJ 83,721, ADV 56,239, PRON 49,334,
/// CONJ 38,151, PRT 29,829, NUM 14,874 and X 1,386 words, NLTK's figures.
/// </summary>
public static class BrownTagset
{
    /// <summary>The universal tags, by class index.</summary>
    public static IReadOnlyList<string> Universal { get; } = ["NOUN", "VERB", "ADJ", "ADV", "ADP", "CONJ", "DET", "NUM", "PRON", "PRT", "X", "."];

    /// <summary>The index of X, the tag of foreign words and of any tag the table does not list.</summary>
    public static int Other { get; } = 10;

    // en-brown.map, grouped by universal tag; the Brown tags as the corpus files write them (lower case).
    private static readonly Dictionary<string, string> Table = new()
    {
        ["NOUN"] = """
            cd$ nn nn$ nn$-hl nn$-tl nn+in nn+nn-nc nn-hl nn-nc nn-tl nn-tl-hl nn-tl-nc nns nns$ nns$-hl nns$-nc
            nns$-tl nns$-tl-hl nns-hl nns-nc nns-tl nns-tl-hl nns-tl-nc np np$ np$-hl np$-tl np-hl np-nc np-tl
            np-tl-hl nps nps$ nps$-hl nps$-tl nps-hl nps-nc nps-tl nr nr$ nr$-tl nr-hl nr-nc nr-tl nr-tl-hl nrs
            nrs-tl pn pn$ pn-hl pn-nc pn-tl
            """,
        ["VERB"] = """
            be be-hl be-tl bed bed* bed-nc bedz bedz* bedz-hl bedz-nc beg bem bem* bem-nc ben ben-tl ber ber*
            ber*-nc ber-hl ber-nc ber-tl bez bez* bez-hl bez-nc bez-tl do do* do*-hl do-hl do-nc do-tl dod dod*
            dod*-tl dod-nc doz doz* doz*-tl doz-hl doz-tl hv hv* hv+to hv-hl hv-nc hv-tl hvd hvd* hvd-hl hvg hvg-hl
            hvn hvz hvz* hvz-nc hvz-tl md md* md*-hl md+hv md+ppss md+to md-hl md-nc md-tl vb vb+at vb+in vb+jj-nc
            vb+ppo vb+rp vb+to vb+vb-nc vb-hl vb-nc vb-tl vbd vbd-hl vbd-nc vbd-tl vbg vbg+to vbg-hl vbg-nc vbg-tl
            vbn vbn+to vbn-hl vbn-nc vbn-tl vbn-tl-hl vbn-tl-nc vbz vbz-hl vbz-nc vbz-tl
            """,
        ["ADJ"] = """
            ap ap+ap-nc ap-hl ap-nc ap-tl jj jj+jj-nc jj-hl jj-nc jj-tl jj-tl-hl jj-tl-nc jjr jjr+cs jjr-hl jjr-nc
            jjr-tl jjs jjs-hl jjs-tl jjt jjt-hl jjt-nc jjt-tl od od-hl od-nc od-tl
            """,
        ["ADV"] = """
            * *-hl *-nc *-tl ql ql-hl ql-nc ql-tl qlp rb rb+cs rb-hl rb-nc rb-tl rbr rbr+cs rbr-nc rbt rn wql
            wql-tl wrb wrb-hl wrb-nc wrb-tl
            """,
        ["ADP"] = """
            cs cs-hl cs-nc cs-tl in in+in in+ppo in-hl in-nc in-tl in-tl-hl
            """,
        ["CONJ"] = """
            cc cc-hl cc-nc cc-tl cc-tl-hl
            """,
        ["DET"] = """
            abx at at-hl at-nc at-tl at-tl-hl dt dt$ dt-hl dt-nc dt-tl dti dti-hl dti-tl dts dts-hl dtx pp$ pp$-hl
            pp$-nc pp$-tl wdt wdt-hl wdt-nc wp$
            """,
        ["NUM"] = """
            cd cd-hl cd-nc cd-tl cd-tl-hl
            """,
        ["PRON"] = """
            pp$$ ppl ppl-hl ppl-nc ppl-tl ppls ppo ppo-hl ppo-nc ppo-tl pps pps-hl pps-nc pps-tl ppss ppss-hl
            ppss-nc ppss-tl wpo wpo-nc wpo-tl wps wps-hl wps-nc wps-tl
            """,
        ["PRT"] = """
            abl abn abn-hl abn-nc abn-tl ap$ dt+bez dt+bez-nc dt+md dts+bez ex ex+bez ex+hvd ex+hvz ex+md ex-hl
            ex-nc jj$-tl nn+bez nn+bez-tl nn+hvd-tl nn+hvz nn+hvz-tl nn+md nns+md np+bez np+bez-nc np+hvz np+hvz-nc
            np+md nr+md pn+bez pn+hvd pn+hvz pn+md pps+bez pps+bez-hl pps+bez-nc pps+hvd pps+hvz pps+md ppss+bem
            ppss+ber ppss+ber-n ppss+ber-nc ppss+ber-tl ppss+bez ppss+bez* ppss+hv ppss+hv-tl ppss+hvd ppss+md
            ppss+md-nc ppss+vb rb$ rb+bez rb+bez-hl rb+bez-nc rp rp+in rp-hl rp-nc rp-tl to to+vb to-hl to-nc to-tl
            uh uh-hl uh-nc uh-tl wdt+ber wdt+bez wdt+bez-hl wdt+bez-nc wdt+bez-tl wdt+dod wdt+hvz wps+bez
            wps+bez-nc wps+bez-tl wps+hvd wps+hvz wps+md wrb+ber wrb+bez wrb+bez-tl wrb+do wrb+dod wrb+dod* wrb+doz
            wrb+in wrb+md
            """,
        ["X"] = """
            do+ppss fw-* fw-*-tl fw-at fw-at+nn-tl fw-at+np-tl fw-at-hl fw-at-tl fw-be fw-ber fw-bez fw-cc fw-cc-tl
            fw-cd fw-cd-tl fw-cs fw-dt fw-dt+bez fw-dts fw-hv fw-in fw-in+at fw-in+at-t fw-in+at-tl fw-in+nn
            fw-in+nn-tl fw-in+np-tl fw-in-tl fw-jj fw-jj-nc fw-jj-tl fw-jjr fw-jjt fw-nn fw-nn$ fw-nn$-tl fw-nn-nc
            fw-nn-tl fw-nn-tl-nc fw-nns fw-nns-nc fw-nns-tl fw-np fw-np-tl fw-nps fw-nps-tl fw-nr fw-nr-tl fw-od-nc
            fw-od-tl fw-pn fw-pp$ fw-pp$-nc fw-pp$-tl fw-ppl fw-ppl+vbz fw-ppo fw-ppo+in fw-pps fw-ppss fw-ppss+hv
            fw-ql fw-rb fw-rb+cc fw-rb-tl fw-to+vb fw-uh fw-uh-nc fw-uh-tl fw-vb fw-vb-nc fw-vb-tl fw-vbd fw-vbd-tl
            fw-vbg fw-vbg-tl fw-vbn fw-vbz fw-wdt fw-wpo fw-wps nil wdt+ber+pp wdt+do+pps
            """,
        ["."] = """
            ' '' ( (-hl ) )-hl , ,-hl ,-nc ,-tl -- ---hl . .-hl .-nc .-tl : :-hl :-tl ``
            """,
        ["X"] = """
            do+ppss fw-* fw-*-tl fw-at fw-at+nn-tl fw-at+np-tl fw-at-hl fw-at-tl fw-be fw-ber fw-bez fw-cc fw-cc-tl
            fw-cd fw-cd-tl fw-cs fw-dt fw-dt+bez fw-dts fw-hv fw-in fw-in+at fw-in+at-t fw-in+at-tl fw-in+nn fw-in+nn-tl
            fw-in+np-tl fw-in-tl fw-jj fw-jj-nc fw-jj-tl fw-jjr fw-jjt fw-nn fw-nn$ fw-nn$-tl fw-nn-nc fw-nn-tl fw-nn-tl-nc
            fw-nns fw-nns-nc fw-nns-tl fw-np fw-np-tl fw-nps fw-nps-tl fw-nr fw-nr-tl fw-od-nc fw-od-tl fw-pn fw-pp$
            fw-pp$-nc fw-pp$-tl fw-ppl fw-ppl+vbz fw-ppo fw-ppo+in fw-pps fw-ppss fw-ppss+hv fw-ql fw-rb fw-rb+cc fw-rb-tl
            fw-to+vb fw-uh fw-uh-nc fw-uh-tl fw-vb fw-vb-nc fw-vb-tl fw-vbd fw-vbd-tl fw-vbg fw-vbg-tl fw-vbn fw-vbz
            fw-wdt fw-wpo fw-wps nil wdt+ber+pp wdt+do+pps
            """,
    };

    private static readonly Dictionary<string, int> Index = Build();

    /// <summary>How many Brown tags the table lists.</summary>
    public static int Count => Index.Count;

    /// <summary>The class index of a Brown tag (`at` → DET, `np-tl` → NOUN), case-insensitive; X for a tag not in the table.</summary>
    public static int ToUniversal(string brownTag) => Index.TryGetValue(brownTag.ToLowerInvariant(), out var index) ? index : Other;

    private static Dictionary<string, int> Build()
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (universal, tags) in Table)
        {
            var target = Universal.ToList().IndexOf(universal);
            foreach (var tag in tags.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries)) index.Add(tag, target);
        }
        return index;
    }
}
