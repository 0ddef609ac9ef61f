using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace PeerBench;

/// <param name="Clip">The global gradient norm the text cases clip to; null: their example's (1.0); 0: none.</param>
record Options(bool Quick, int Threads, long Seed, string DataDir, string? TextPath, int ColdRuns, double? Clip);

/// <summary>The measured figures, printed as one table at the end.</summary>
sealed class Report
{
    public readonly List<(string Case, string Metric, string Value)> Rows = new();
    public void Add(string c, string metric, string value)
    {
        Rows.Add((c, metric, value));
        Console.WriteLine($"  => {c}: {metric} = {value}");
    }

    /// <summary>The case's headline throughput, also printed as one line `result CASE VALUE UNIT` for scripts (bench/compare).</summary>
    public void Result(string c, double value, string unit) =>
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"result {c} {value:F2} {unit}"));
}

static partial class Cases
{
    static double Median(IEnumerable<double> xs)
    {
        var a = xs.OrderBy(x => x).ToArray();
        if (a.Length == 0) return double.NaN;
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }

    /// <summary>Runs f `warmup` times untimed, then at least minIters times and until minSeconds have passed (at most maxIters); returns seconds per call.</summary>
    static List<double> Repeat(Action f, int warmup, int minIters, double minSeconds, int maxIters)
    {
        for (int i = 0; i < warmup; i++) f();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < maxIters && (times.Count < minIters || total.Elapsed.TotalSeconds < minSeconds))
        {
            long t0 = Stopwatch.GetTimestamp();
            f();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return times;
    }

    // ---- 5. matmul -------------------------------------------------------------------------

    public static void Matmul(Options o, Report r)
    {
        foreach (int n in new[] { 256, 1024 })
        {
            manual_seed(o.Seed);
            using var a = randn(n, n);
            using var b = randn(n, n);
            var t = Repeat(() => { using var c = a.mm(b); }, warmup: 10, minIters: 20, minSeconds: o.Quick ? 0.5 : 3, maxIters: 100_000);
            double s = Median(t);
            Console.WriteLine($"  mm {n}x{n}: {t.Count} runs, median {s * 1e3:F3} ms");
            r.Add("matmul", $"torch.mm f32 {n}x{n} GFLOP/s", $"{2.0 * n * n * n / s / 1e9:F1}");
        }
    }

    // ---- 1. MLP and 2. CNN on Fashion-MNIST -----------------------------------------------------
    // Both read Fashion-MNIST's 60k training images scaled to [0, 1] and train with Adam 1e-3, batch 128, shuffled each
    // epoch, as dlc's `fashionMnist` records do.

    /// <summary>examples/fashion_mlp.dl: dense 256 |> relu |> dense 256 |> relu |> dense 10.</summary>
    public static TorchSharp.Modules.Sequential MlpModel() =>
        Sequential(Linear(784, 256), ReLU(), Linear(256, 256), ReLU(), Linear(256, 10));

    /// <summary>examples/fashion_cnn_small.dl: conv2d 32 (3, padding 1) |> relu |> maxPool 2, the same with 64, flatten,
    /// dense 128 |> relu |> dense 10.</summary>
    static TorchSharp.Modules.Sequential CnnModel() =>
        Sequential(Conv2d(1, 32, 3, padding: 1), ReLU(), MaxPool2d(2),
                   Conv2d(32, 64, 3, padding: 1), ReLU(), MaxPool2d(2),
                   Flatten(), Linear(3136, 128), ReLU(), Linear(128, 10));

    public static void Mlp(Options o, Report r)
    {
        var (xtr, ytr) = Data.Fashion(o.DataDir, train: true);
        var (xte, yte) = Data.Fashion(o.DataDir, train: false);
        manual_seed(o.Seed);
        var model = MlpModel();
        TrainClassifier("mlp", model, xtr, ytr, xte, yte, o.Quick ? 2 : 5, new[] { 1, 3, 5 }, budgetSeconds: 900, r);

        model.eval();
        using (no_grad())
        {
            var xb = xte.narrow(0, 0, 1000);
            var t = Repeat(() => { using var s = NewDisposeScope(); model.call(xb); }, 10, 50, o.Quick ? 0.5 : 3, 100_000);
            r.Add("mlp", "inference samples/s (batch 1000, no grad)", $"{1000 / Median(t):F0}");
            var x1 = xte.narrow(0, 0, 1);
            t = Repeat(() => { using var s = NewDisposeScope(); model.call(x1); }, 200, 1000, o.Quick ? 0.5 : 3, 200_000);
            r.Add("mlp", "latency batch 1 (us, median, no grad)", $"{Median(t) * 1e6:F1}");
        }
    }

    public static void Cnn(Options o, Report r)
    {
        var (xtr, ytr) = Data.Fashion(o.DataDir, train: true);
        var (xte, yte) = Data.Fashion(o.DataDir, train: false);
        manual_seed(o.Seed);
        TrainClassifier("cnn", CnnModel(), xtr.view(-1, 1, 28, 28), ytr, xte.view(-1, 1, 28, 28), yte,
                        o.Quick ? 1 : 3, new[] { 1, 3 }, budgetSeconds: 900, r);
    }

    /// <summary>Adam 1e-3, batch 128, cross-entropy, shuffled each epoch; throughput excludes evaluation.
    /// Stops early when another epoch would pass budgetSeconds of training.</summary>
    static void TrainClassifier(string name, Module<Tensor, Tensor> model, Tensor xtr, Tensor ytr, Tensor xte, Tensor yte,
                                int epochs, int[] accAt, double budgetSeconds, Report r, int batch = 128)
    {
        var opt = optim.Adam(model.parameters(), lr: 1e-3);
        long n = xtr.shape[0];
        var rates = new List<double>();
        double trained = 0;
        for (int e = 1; e <= epochs; e++)
        {
            model.train();
            using var perm = randperm(n);
            double lossSum = 0;
            int steps = 0;
            var sw = Stopwatch.StartNew();
            for (long s = 0; s < n; s += batch)
            {
                using var scope = NewDisposeScope();
                var idx = perm.narrow(0, s, Math.Min(batch, n - s));
                opt.zero_grad();
                var loss = F.cross_entropy(model.call(xtr.index_select(0, idx)), ytr.index_select(0, idx));
                loss.backward();
                opt.step();
                lossSum += loss.ToSingle();
                steps++;
            }
            double sec = sw.Elapsed.TotalSeconds;
            trained += sec;
            rates.Add(n / sec);
            double acc = Accuracy(model, xte, yte);
            Console.WriteLine($"  {name} epoch {e}: {sec:F2} s, {n / sec:F0} samples/s, train loss {lossSum / steps:F4}, test acc {acc * 100:F2} %");
            if (accAt.Contains(e)) r.Add(name, $"test accuracy after {e} epoch{(e > 1 ? "s" : "")}", $"{acc * 100:F2} %");
            if (e < epochs && trained + sec > budgetSeconds)
            {
                r.Add(name, "note", $"stopped after {e} of {epochs} epochs: another would pass the {budgetSeconds:F0} s budget");
                break;
            }
        }
        if (rates.Count > 1)
            r.Add(name, $"train samples/s (median of epochs 2..{rates.Count}; epoch 1: {rates[0]:F0})", $"{Median(rates.Skip(1)):F0}");
        else
            r.Add(name, "train samples/s (epoch 1, includes warm-up)", $"{rates[0]:F0}");
        r.Result(name, rates.Count > 1 ? Median(rates.Skip(1)) : rates[0], "samples/s");
    }

    static double Accuracy(Module<Tensor, Tensor> model, Tensor x, Tensor y, int batch = 1000)
    {
        model.eval();
        using var _ = no_grad();
        long correct = 0, n = x.shape[0];
        for (long s = 0; s < n; s += batch)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batch, n - s);
            correct += model.call(x.narrow(0, s, len)).argmax(1).eq(y.narrow(0, s, len)).sum().ToInt64();
        }
        return (double)correct / n;
    }

    // ---- 3. character language models: LSTM and GPT ---------------------------------------------

    /// <summary>
    /// A text as dlc's `textCorpus { sequence = 128 }` reads it: token 0 for a character the training part never had,
    /// then the training part's characters in ordinal order; windows of T characters following each other without
    /// overlap, the targets the T characters after each one. The first 90 % is the training part, the rest held out.
    /// </summary>
    sealed class CharText
    {
        public readonly int Vocabulary;
        public readonly Tensor Ids;
        readonly Tensor trainStarts, heldOutStarts, window;
        readonly int batch;

        public CharText(string path, int classes, int sequence, int batch)
        {
            string text = Data.Text(path);
            int split = text.Length * 9 / 10;
            char[] chars = text[..split].Distinct().OrderBy(c => c).ToArray();
            Vocabulary = chars.Length + 1;
            if (Vocabulary > classes)
                throw new InvalidDataException($"{path}: {chars.Length} distinct characters need {Vocabulary} token indices, the model has {classes}");
            var index = new Dictionary<char, long>();
            for (int i = 0; i < chars.Length; i++) index[chars[i]] = i + 1;
            Ids = tensor(text.Select(c => index.GetValueOrDefault(c)).ToArray());
            long Windows(long from, long to) => (to - from - 1) / sequence;
            trainStarts = arange(Windows(0, split)) * sequence;
            heldOutStarts = split + arange(Windows(split, text.Length)) * sequence;
            if (trainStarts.shape[0] < batch || heldOutStarts.shape[0] < 1)
                throw new InvalidDataException($"{path}: {text.Length} characters are too few for batches of {batch} windows of {sequence}");
            window = arange(sequence + 1);
            this.batch = batch;
            Console.WriteLine($"  text {path}: {text.Length} characters, {chars.Length} distinct in the training part, " +
                              $"{trainStarts.shape[0]} training windows of {sequence}");
        }

        /// <summary>Batch b of the training windows in the order perm (a permutation of them, drawn each epoch).</summary>
        public (Tensor X, Tensor Y) Train(Tensor perm, long b) => Gather(trainStarts.index_select(0, perm.narrow(0, b * batch, batch)));

        /// <summary>Batches of the training part in one epoch (a last part batch is dropped).</summary>
        public long BatchesPerEpoch => trainStarts.shape[0] / batch;

        public Tensor Permutation() => randperm(trainStarts.shape[0]);

        /// <summary>Held-out batch i: the held-out windows in order, from the start again when they run out.</summary>
        public (Tensor X, Tensor Y) HeldOut(long i)
        {
            long n = heldOutStarts.shape[0];
            var idx = (arange(batch) + i * batch) % n;
            return Gather(heldOutStarts.index_select(0, idx));
        }

        (Tensor, Tensor) Gather(Tensor starts)
        {
            var w = Ids.take(starts.unsqueeze(1) + window);
            int t = (int)window.shape[0] - 1;
            return (w.narrow(1, 0, t), w.narrow(1, 1, t));
        }
    }

    /// <summary>
    /// Trains a character model for `steps` steps of batches drawn as dlc's epochs draw them, with the optimiser and
    /// global-norm clipping of its example; tokens/s from the median step after the first 10. Returns the mean
    /// training loss of the last 10 steps and the held-out loss of 8 batches.
    /// </summary>
    static void TrainCharModel(string name, Module<Tensor, Tensor> model, optim.Optimizer opt, CharText text, int classes,
                               int steps, double clip, int batch, int sequence, Report r)
    {
        var times = new List<double>();
        var losses = new List<double>();
        Tensor? perm = null;
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            long t0 = Stopwatch.GetTimestamp();
            long b = s % text.BatchesPerEpoch;
            if (b == 0) { perm?.Dispose(); perm = text.Permutation().MoveToOuterDisposeScope(); }
            var (x, y) = text.Train(perm!, b);
            opt.zero_grad();
            var loss = F.cross_entropy(model.call(x).reshape(-1, classes), y.reshape(-1));
            loss.backward();
            if (clip > 0) nn.utils.clip_grad_norm_(model.parameters(), clip);
            opt.step();
            losses.Add(loss.ToSingle());
            times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            if ((s + 1) % 20 == 0) Console.WriteLine($"  {name} step {s + 1}: loss {losses[^1]:F4}, {times[^1] * 1e3:F0} ms/step");
        }
        perm?.Dispose();

        model.eval();
        double val = 0;
        using (no_grad())
        {
            for (int i = 0; i < 8; i++)
            {
                using var scope = NewDisposeScope();
                var (x, y) = text.HeldOut(i);
                val += F.cross_entropy(model.call(x).reshape(-1, classes), y.reshape(-1)).ToSingle() / 8;
            }
        }
        int skip = Math.Min(10, steps / 2);
        double tokens = batch * sequence / Median(times.Skip(skip));
        r.Add(name, $"train tokens/s (median step, steps {skip + 1}..{steps}, {batch}x{sequence} tokens/step, clip {clip})", $"{tokens:F0}");
        r.Add(name, $"train loss after {steps} steps (nats/char, mean of last 10)", $"{losses.TakeLast(10).Average():F3}");
        r.Add(name, $"held-out loss after {steps} steps (nats/char, 8 batches)", $"{val:F3}");
        r.Result(name, tokens, "chars/s");
    }

    /// <summary>examples/brown_charlm.dl: embedding 96 64 |> lstm 256 |> dense 96 (PyTorch's LSTM has both biases, as dlc's).</summary>
    sealed class CharLM : Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Embedding emb;
        readonly TorchSharp.Modules.LSTM lstm;
        readonly TorchSharp.Modules.Linear head;

        public CharLM(long vocab, long embDim, long hidden) : base(nameof(CharLM))
        {
            emb = Embedding(vocab, embDim);
            lstm = LSTM(embDim, hidden, batchFirst: true);
            head = Linear(hidden, vocab);
            RegisterComponents();
        }

        // The state starts at zero for every window, as in dlc.
        public override Tensor forward(Tensor x) => head.call(lstm.call(emb.call(x), null).Item1);
    }

    /// <summary>examples/brown_charlm.dl's model and record: batch 32 of 128 characters, Adam 2e-3, clip 1.</summary>
    public static void Lstm(Options o, Report r)
    {
        const int classes = 96, B = 32, T = 128, steps = 200;
        var text = new CharText(o.TextPath ?? throw new ArgumentException("the lstm case needs --text FILE (bench/brown-slice writes one)"), classes, T, B);
        manual_seed(o.Seed);
        var model = new CharLM(classes, 64, 256);
        var opt = optim.Adam(model.parameters(), lr: 2e-3);
        TrainCharModel("lstm", model, opt, text, classes, o.Quick ? 20 : steps, o.Clip ?? 1.0, B, T, r);
    }

    /// <summary>
    /// examples/brown_gpt.dl's `block`: h = x + attention(layerNorm x), causal, 4 heads with biases (in_proj and
    /// out_proj as nn.MultiheadAttention); then h + dense 128 (gelu (dense 512 (layerNorm h))), GELU exact (erf).
    /// </summary>
    sealed class GptBlock : Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Linear qkv, proj, ff1, ff2;
        readonly TorchSharp.Modules.LayerNorm ln1, ln2;
        readonly long heads;
        readonly Tensor mask;

        public GptBlock(long d, long heads, long ff, long t) : base(nameof(GptBlock))
        {
            this.heads = heads;
            qkv = Linear(d, 3 * d); proj = Linear(d, d);
            ff1 = Linear(d, ff); ff2 = Linear(ff, d);
            ln1 = LayerNorm(d); ln2 = LayerNorm(d);
            mask = ones(t, t).triu(1).to(ScalarType.Bool);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            long b = x.shape[0], t = x.shape[1], d = x.shape[2], hd = d / heads;
            var qkvs = qkv.call(ln1.call(x)).view(b, t, 3, heads, hd).permute(2, 0, 3, 1, 4);
            var (q, k, v) = (qkvs[0], qkvs[1], qkvs[2]);
            var att = (q.matmul(k.transpose(-2, -1)) / Math.Sqrt(hd)).masked_fill(mask, double.NegativeInfinity).softmax(-1);
            x = x + proj.call(att.matmul(v).transpose(1, 2).reshape(b, t, d));
            return x + ff2.call(F.gelu(ff1.call(ln2.call(x))));
        }
    }

    /// <summary>examples/brown_gpt.dl's BrownGpt: embedding 96 128, the sinusoidal positional encoding added, 4 blocks, layerNorm, dense 96.</summary>
    sealed class Gpt : Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Embedding emb;
        readonly TorchSharp.Modules.ModuleList<GptBlock> blocks;
        readonly TorchSharp.Modules.LayerNorm lnf;
        readonly TorchSharp.Modules.Linear head;
        readonly Tensor pe;

        public Gpt(long vocab, long d, long heads, long ff, long t, int layers) : base(nameof(Gpt))
        {
            emb = Embedding(vocab, d);
            blocks = new TorchSharp.Modules.ModuleList<GptBlock>();
            for (int i = 0; i < layers; i++) blocks.Add(new GptBlock(d, heads, ff, t));
            lnf = LayerNorm(d);
            head = Linear(d, vocab);
            // The sinusoidal encoding of Vaswani et al., added to the embeddings.
            var position = arange(t, ScalarType.Float32).unsqueeze(1);
            var div = exp(arange(0, d, 2, ScalarType.Float32) * (-Math.Log(10000.0) / d));
            pe = zeros(t, d);
            pe[TensorIndex.Colon, TensorIndex.Slice(0, null, 2)] = sin(position * div);
            pe[TensorIndex.Colon, TensorIndex.Slice(1, null, 2)] = cos(position * div);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var h = emb.call(x) + pe;
            foreach (var block in blocks) h = block.call(h);
            return head.call(lnf.call(h));
        }
    }

    /// <summary>
    /// examples/brown_gpt.dl's model and record: batch 32 of 128 characters, AdamW 1e-3 with weight decay 0.01, clip 1.
    /// Its cosine schedule is left out, as `dlc bench` leaves it out (the rate does not change the cost of a step).
    /// </summary>
    public static void Gpt2(Options o, Report r)
    {
        const int classes = 96, B = 32, T = 128, steps = 60;
        var text = new CharText(o.TextPath ?? throw new ArgumentException("the gpt case needs --text FILE (bench/brown-slice writes one)"), classes, T, B);
        manual_seed(o.Seed);
        var model = new Gpt(classes, 128, 4, 512, T, 4);
        var opt = optim.AdamW(model.parameters(), lr: 1e-3, weight_decay: 0.01);
        TrainCharModel("gpt", model, opt, text, classes, o.Quick ? 15 : steps, o.Clip ?? 1.0, B, T, r);
    }

    // ---- 4. one transformer encoder layer (examples/encoder_layer_bench.dl) -----------------------------

    /// <summary>The same post-norm block as nn.TransformerEncoderLayer (ReLU, no dropout), written with
    /// explicit matmul + softmax attention: what a compiler that lowers to primitive ops would run.</summary>
    sealed class ExplicitBlock : Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Linear qkv, proj, ff1, ff2;
        readonly TorchSharp.Modules.LayerNorm ln1, ln2;
        readonly long heads;

        public ExplicitBlock(long d, long heads, long ff) : base(nameof(ExplicitBlock))
        {
            this.heads = heads;
            qkv = Linear(d, 3 * d); proj = Linear(d, d);
            ff1 = Linear(d, ff); ff2 = Linear(ff, d);
            ln1 = LayerNorm(d); ln2 = LayerNorm(d);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)                      // x: [batch, seq, d]
        {
            long b = x.shape[0], t = x.shape[1], d = x.shape[2], hd = d / heads;
            var qkvs = qkv.call(x).view(b, t, 3, heads, hd).permute(2, 0, 3, 1, 4);   // [3, b, h, t, hd]
            var (q, k, v) = (qkvs[0], qkvs[1], qkvs[2]);
            var att = (q.matmul(k.transpose(-2, -1)) / Math.Sqrt(hd)).softmax(-1);
            var a = att.matmul(v).transpose(1, 2).reshape(b, t, d);
            x = ln1.call(x + proj.call(a));
            return ln2.call(x + ff2.call(ff1.call(x).relu()));
        }
    }

    /// <summary>
    /// examples/encoder_layer_bench.dl: one post-norm layer (d_model 128, 4 heads, MLP 512, ReLU, no dropout) on
    /// `gaussianNoise { samples = 2048 }` (N(0, 1) inputs [64, 128], targets zero), batch 32 shuffled each epoch;
    /// a step is the forward pass, mse against zero (= mean(y²)), the backward pass and SGD lr 1e-3.
    /// Two variants: PyTorch's own nn.TransformerEncoderLayer (fused attention; the headline figure) and the
    /// explicit matmul + softmax block.
    /// </summary>
    public static void Encoder(Options o, Report r)
    {
        const int B = 32, T = 64, D = 128, H = 4, FF = 512, samples = 2048;
        foreach (bool builtin in new[] { true, false })
        {
            manual_seed(o.Seed);
            Module<Tensor, Tensor> block = builtin ? TransformerEncoderLayer(D, H, FF, dropout: 0.0) : new ExplicitBlock(D, H, FF);
            // The built-in layer is sequence-first: its samples are kept as [T, samples, D] so a batch is one index_select.
            using var data = builtin ? randn(T, samples, D) : randn(samples, T, D);
            var opt = optim.SGD(block.parameters(), 1e-3);
            block.train();
            Tensor perm = randperm(samples);
            long b = 0;
            var t = Repeat(() =>
            {
                using var scope = NewDisposeScope();
                if (b == samples / B) { perm.Dispose(); perm = randperm(samples).MoveToOuterDisposeScope(); b = 0; }
                var idx = perm.narrow(0, b++ * B, B);
                var x = data.index_select(builtin ? 1 : 0, idx);
                opt.zero_grad();
                F.mse_loss(block.call(x), zeros(x.shape)).backward();
                opt.step();
            }, warmup: 10, minIters: 30, minSeconds: o.Quick ? 1 : 10, maxIters: 5000);
            perm.Dispose();
            string what = builtin ? "nn.TransformerEncoderLayer" : "explicit matmul+softmax block";
            Console.WriteLine($"  {what}: {t.Count} steps, median {Median(t) * 1e3:F2} ms");
            r.Add("encoder", $"training steps/s (batch {B}, SGD), {what}", $"{1 / Median(t):F1}");
            r.Result(builtin ? "encoder" : "encoder-explicit", 1 / Median(t), "steps/s");
        }
    }

    // ---- 6. cold start ---------------------------------------------------------------------

    /// <summary>Child process: load torch, the training images and the MLP, run one training step, report, exit.</summary>
    public static void ColdStartChild(Options o)
    {
        var sw = Stopwatch.StartNew();
        set_num_threads(o.Threads);
        double torchMs = sw.Elapsed.TotalMilliseconds;
        var (xtr, ytr) = Data.Fashion(o.DataDir, train: true);
        double dataMs = sw.Elapsed.TotalMilliseconds;
        manual_seed(o.Seed);
        var model = MlpModel();
        var opt = optim.Adam(model.parameters(), lr: 1e-3);
        var idx = randperm(xtr.shape[0]).narrow(0, 0, 128);
        opt.zero_grad();
        F.cross_entropy(model.call(xtr.index_select(0, idx)), ytr.index_select(0, idx)).backward();
        opt.step();
        double stepMs = sw.Elapsed.TotalMilliseconds;
        Console.WriteLine($"COLDSTART {torchMs:F1} {dataMs:F1} {stepMs:F1}");
    }

    /// <summary>Starts this program `runs` times in coldstart mode; wall time from Process.Start to the child's report.</summary>
    public static void ColdStart(Options o, Report r, string[] childPrefix)
    {
        var total = new List<double>();
        var parts = new List<double[]>();
        for (int i = 0; i < o.ColdRuns; i++)
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
            foreach (var a in childPrefix) psi.ArgumentList.Add(a);
            foreach (var a in new[] { "coldstart-child", "--threads", o.Threads.ToString(), "--data", o.DataDir, "--seed", o.Seed.ToString() })
                psi.ArgumentList.Add(a);
            var sw = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            string? line;
            while ((line = p.StandardOutput.ReadLine()) != null && !line.StartsWith("COLDSTART ")) { }
            double ms = sw.Elapsed.TotalMilliseconds;
            p.WaitForExit();
            if (line == null) throw new InvalidOperationException("coldstart child printed no report");
            var v = line.Split(' ').Skip(1).Select(double.Parse).ToArray();   // ms from Main: torch loaded, data loaded, step done
            total.Add(ms);
            parts.Add(v);
            Console.WriteLine($"  coldstart run {i + 1}: {ms:F0} ms to first step done (in child from Main: torch {v[0]:F0}, data {v[1]:F0}, step {v[2]:F0})");
        }
        double main = Median(total.Zip(parts, (t, v) => t - v[2]));
        double torchLoad = Median(parts.Select(v => v[0]));
        double data = Median(parts.Select(v => v[1] - v[0]));
        double step = Median(parts.Select(v => v[2] - v[1]));
        r.Add("coldstart", $"process start -> first MLP step done (ms, median of {o.ColdRuns})", $"{Median(total):F0}");
        r.Add("coldstart", "  of which: runtime start to Main / torch load / data load / model+first step (ms)",
              $"{main:F0} / {torchLoad:F0} / {data:F0} / {step:F0}");
    }
}
