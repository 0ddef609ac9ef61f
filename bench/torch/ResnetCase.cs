using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace PeerBench;

static partial class Cases
{
    // ---- 7. ResNet on Fashion-MNIST ----------------------------------------------------------

    /// <summary>conv 3×3 without a bias (padding 1, the stride given), then batch norm: `convBn` of examples/fashion_resnet.dl.</summary>
    static TorchSharp.Modules.Sequential ConvBn(long inputs, long channels, long stride) =>
        Sequential(Conv2d(inputs, channels, 3, stride: stride, padding: 1, bias: false), BatchNorm2d(channels));

    /// <summary>`residual` and `downsample` of examples/fashion_resnet.dl: relu(shortcut(x) + convBn(relu(convBn(x)))), the
    /// shortcut the input itself, or a strided 1×1 convolution and batch norm where the block halves the size.</summary>
    sealed class ResidualBlock : Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Sequential first, second;
        readonly TorchSharp.Modules.Sequential? shortcut;

        public ResidualBlock(long inputs, long channels, long stride) : base(nameof(ResidualBlock))
        {
            first = ConvBn(inputs, channels, stride);
            second = ConvBn(channels, channels, 1);
            if (stride != 1 || inputs != channels)
                shortcut = Sequential(Conv2d(inputs, channels, 1, stride: stride, bias: false), BatchNorm2d(channels));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var h = second.call(F.relu(first.call(x)));
            return F.relu((shortcut is null ? x : shortcut.call(x)) + h).MoveToOuterDisposeScope();
        }
    }

    /// <summary>examples/fashion_resnet.dl's model: [N, 1, 28, 28] → 16 × 28² → 32 × 14² → 64 × 7² → average → 10.</summary>
    sealed class FashionResnet : Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Sequential stem, blocks;
        readonly TorchSharp.Modules.Linear head;

        public FashionResnet() : base(nameof(FashionResnet))
        {
            stem = Sequential(ConvBn(1, 16, 1), ReLU());
            blocks = Sequential(new ResidualBlock(16, 16, 1),
                                new ResidualBlock(16, 32, 2), new ResidualBlock(32, 32, 1),
                                new ResidualBlock(32, 64, 2), new ResidualBlock(64, 64, 1));
            head = Linear(64, 10);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return head.call(blocks.call(stem.call(x)).mean(new long[] { 2, 3 })).MoveToOuterDisposeScope();
        }
    }

    /// <summary>
    /// examples/fashion_resnet.dl's record: AdamW 2e-3 (weight decay 5e-4), batch 128, each training image cropped at
    /// random from itself padded by 2 and mirrored with probability ½. Times the median step (the batch gathered and
    /// changed, the step and the update) after 10 warm-up steps, as dlc's `bench` reports its median step.
    /// </summary>
    public static void Resnet(Options o, Report r)
    {
        const int batch = 128, padding = 2;
        var (xtr, ytr) = Data.Fashion(o.DataDir, train: true);
        using var images = xtr.view(-1, 1, 28, 28);
        manual_seed(o.Seed);
        var random = new Random((int)o.Seed);
        var model = new FashionResnet();
        var opt = optim.AdamW(model.parameters(), lr: 2e-3, weight_decay: 5e-4);
        model.train();
        long n = images.shape[0];
        int steps = o.Quick ? 15 : 70, warmup = Math.Min(10, steps / 2);
        var times = new List<double>();
        var losses = new List<double>();
        Tensor perm = randperm(n);
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            long t0 = Stopwatch.GetTimestamp();
            long first = s * batch % (n - n % batch);
            if (s > 0 && first == 0) { perm.Dispose(); perm = randperm(n).MoveToOuterDisposeScope(); }
            var padded = F.pad(images.index_select(0, perm.narrow(0, first, batch)), new long[] { padding, padding, padding, padding });
            var crops = new Tensor[batch];
            for (int i = 0; i < batch; i++)
            {
                var crop = padded[i].narrow(1, random.Next(2 * padding + 1), 28).narrow(2, random.Next(2 * padding + 1), 28);
                crops[i] = random.Next(2) == 1 ? crop.flip(2) : crop;
            }
            var x = stack(crops);
            opt.zero_grad();
            var loss = F.cross_entropy(model.call(x), ytr.index_select(0, perm.narrow(0, first, batch)));
            loss.backward();
            opt.step();
            losses.Add(loss.ToSingle());
            times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            if ((s + 1) % 10 == 0) Console.WriteLine($"  resnet step {s + 1}: loss {losses[^1]:F4}, {times[^1] * 1e3:F0} ms/step");
        }
        perm.Dispose();
        double rate = batch / Median(times.Skip(warmup));
        r.Add("resnet", $"train samples/s (median step, steps {warmup + 1}..{steps}, batch {batch}, crops and flips)", $"{rate:F0}");
        r.Add("resnet", $"train loss after {steps} steps (mean of last 10)", $"{losses.TakeLast(10).Average():F3}");
        r.Result("resnet", rate, "samples/s");
    }
}
