namespace Dlc.DslParser.Tests;

/// <summary>The programs of the language sketch, one declaration group per entry, as users write them.</summary>
public static class Examples
{
    public const string FashionMlp = """
        // Fashion-MNIST with a multilayer perceptron.
        let hidden = 256

        /// 784-256-256-10 with ReLU.
        model FashionMlp (image: Tensor[N, 784]) : Tensor[N, 10] =
            image
            |> dense hidden |> relu
            |> dense hidden >> relu
            |> dense 10

        train FashionMlp {
            data      = fashionMnist { validation = 0.1 }
            loss      = crossEntropy
            optimizer = adam { lr = 1e-3 }
            epochs    = 5
            batch     = 128
            seed      = 42
        }

        """;

    public const string FashionCnn = """
        /// Fashion-MNIST classifier: two conv blocks and a small head.
        let convBlock (channels: int) =
            conv2d channels (kernel = 3, padding = 1)
            >> batchNorm
            >> relu
            >> maxPool 2

        model FashionCnn (image: Tensor[N, 1, 28, 28]) : Tensor[N, 10] =
            image
            |> convBlock 32
            |> convBlock 64
            |> flatten
            |> dense 128 |> relu |> dropout 0.3
            |> dense 10

        train FashionCnn {
            data      = fashionMnist { validation = 0.1 }
            loss      = crossEntropy
            optimizer = adam { lr = 1e-3; weightDecay = 1e-4 }
            schedule  = cosine { warmup = 1 }
            epochs    = 10
            batch     = 128
            clip      = 1.0
            metrics   = [ accuracy; topK 3 ]
            seed      = 42
        }

        """;

    public const string ResidualMlp = """
        model ResidualMlp (x: Tensor[N, 784]) : Tensor[N, 10] =
            let h = x |> dense 256 |> relu
            let h = h + (h |> dense 256 |> relu)
            h |> dense 10

        """;

    public const string CharLm = """
        model CharLm (tokens: Tensor[N, T] of int) : Tensor[N, T, 96] =
            tokens |> embedding 96 64 |> lstm 256 |> dense 96

        train CharLm {
            data = textCorpus { path = "/usr/share/..."; sequence = 128; level = char }
            loss = crossEntropy
            optimizer = adam { lr = 2e-3 }
            clip = 1.0
        }

        """;

    public const string Vae = """
        model Vae (x: Tensor[N, 784]) =
            let h = x |> dense 400 |> relu
            let mu = h |> dense 20
            let logVar = h |> dense 20
            let recon = sampleNormal mu logVar |> dense 400 |> relu |> dense 784 |> sigmoid
            { recon = recon; mu = mu; logVar = logVar }

        loss elbo (x, out) =
            binaryCrossEntropy out.recon x (reduce = sum) + klNormal out.mu out.logVar

        """;

    public const string Gan = """
        train gan { generator = Generator; discriminator = Discriminator; data = fashionMnist {} }

        """;

    public const string Agent = """
        agent CartPoleDqn {
            network = QNet; env = cartPole; algorithm = dqn { double = true }
            replay = { capacity = 50000; batch = 64 }; gamma = 0.99; targetUpdate = 500
            exploration = linear { start = 1.0; stop = 0.05; steps = 10000 }
        }

        """;

    public const string Distillation = """
        train Student { distill = { teacher = "runs/teacher/model.safetensors"; temperature = 4.0; alpha = 0.9 } }
        train Classifier { from = "runs/pretrained/model.safetensors"; freeze = [ "FashionCnn.convBlock*" ] }

        """;

    public const string Extras = """
        import "blocks.dl"

        let twice = fun f -> f >> f

        let pair = (a, b)

        """;

    public static readonly IReadOnlyDictionary<string, string> All = new Dictionary<string, string>
    {
        [nameof(FashionMlp)] = FashionMlp,
        [nameof(FashionCnn)] = FashionCnn,
        [nameof(ResidualMlp)] = ResidualMlp,
        [nameof(CharLm)] = CharLm,
        [nameof(Vae)] = Vae,
        [nameof(Gan)] = Gan,
        [nameof(Agent)] = Agent,
        [nameof(Distillation)] = Distillation,
        [nameof(Extras)] = Extras,
    };

    public static TheoryData<string> Names => new(All.Keys);
}
