// PeerBench: PyTorch's engine (LibTorch through TorchSharp) training the models of dlc's examples on this machine's CPU,
// for bench/compare. Each case mirrors one example (see Cases.cs):
//   mlp      examples/fashion_mlp.dl          cnn      examples/fashion_cnn_small.dl
//   lstm     examples/brown_charlm.dl         gpt      examples/brown_gpt.dl
//   encoder  examples/encoder_layer_bench.dl  resnet   examples/fashion_resnet.dl (ResnetCase.cs)
//   (and matmul, coldstart: the engine's GEMM and start-up)
// Usage: PeerBench [all | coldstart matmul mlp cnn lstm gpt encoder resnet ...] [--quick] [--threads N] [--seed N]
//                  [--data DIR] [--text FILE] [--clip X] [--cold-runs N]
// Each case prints its headline throughput as a line `result CASE VALUE UNIT`. Exit code 2 for a bad command line,
// 1 for missing or malformed data.
using System.Diagnostics;
using PeerBench;
using TorchSharp;

NativeFix.WeakenGlibcxxRequirement();                 // before TorchSharp loads its native library

var cases = new List<string>();
bool quick = false;
int threads = 2, coldRuns = 5;
long seed = 42;
string dataDir = Data.FashionDir;
string? textPath = null;
double? clip = null;
var inv = System.Globalization.CultureInfo.InvariantCulture;
for (int i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new UsageError($"{args[i]} needs a value");
    T Number<T>(Func<string, (bool, T)> parse, Func<T, bool> valid, string what)
    {
        string name = args[i], v = Value();
        var (ok, x) = parse(v);
        return ok && valid(x) ? x : throw new UsageError($"{name} takes {what}, not `{v}`");
    }
    try
    {
        switch (args[i])
        {
            case "--quick": quick = true; break;
            case "--threads": threads = Number(v => (int.TryParse(v, out int x), x), x => x >= 1, "a whole number of 1 or more"); break;
            case "--seed": seed = Number(v => (long.TryParse(v, out long x), x), _ => true, "a whole number"); break;
            case "--data": dataDir = Value(); break;
            case "--text": textPath = Value(); break;
            case "--clip": clip = Number(v => (double.TryParse(v, System.Globalization.NumberStyles.Float, inv, out double x), x), x => x >= 0, "a number of 0 or more"); break;
            case "--cold-runs": coldRuns = Number(v => (int.TryParse(v, out int x), x), x => x >= 1, "a whole number of 1 or more"); break;
            default:
                if (args[i].StartsWith("--")) throw new UsageError($"unknown option {args[i]}");
                cases.Add(args[i]);
                break;
        }
    }
    catch (UsageError e)
    {
        Console.Error.WriteLine($"PeerBench: {e.Message}");
        return 2;
    }
}
var o = new Options(quick, threads, seed, dataDir, textPath, quick ? 2 : coldRuns, clip);

if (cases.SequenceEqual(new[] { "coldstart-child" })) { Cases.ColdStartChild(o); return 0; }   // started by case coldstart
string[] order = { "coldstart", "matmul", "mlp", "cnn", "lstm", "gpt", "encoder", "resnet" };
if (cases.Count == 0 || cases.Contains("all")) cases = order.ToList();
var unknown = cases.Except(order).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"unknown case(s): {string.Join(", ", unknown)}; known: all, {string.Join(", ", order)}");
    return 2;
}

var wall = Stopwatch.StartNew();
torch.set_num_threads(threads);
string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "?";
string mem = File.ReadLines("/proc/meminfo").First().Split(':', 2)[1].Trim();
string header =
    $"PeerBench: TorchSharp {typeof(torch).Assembly.GetName().Version?.ToString(3)}, LibTorch {torch.__version__}, .NET {Environment.Version}\n" +
    $"date {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; CPU {cpu}, {Environment.ProcessorCount} logical CPUs, {mem} RAM\n" +
    $"torch.set_num_threads({threads}) -> torch.get_num_threads() = {torch.get_num_threads()}, " +
    $"get_num_interop_threads() = {torch.get_num_interop_threads()}; seed {seed}{(quick ? "; QUICK MODE (not reference figures)" : "")}";
Console.WriteLine(header);

var report = new Report();
foreach (var c in order.Where(cases.Contains))
{
    Console.WriteLine($"\n== {c}");
    var sw = Stopwatch.StartNew();
    var cpu0 = CpuTicks();
    try
    {
        switch (c)
        {
            // When started as `dotnet PeerBench.dll`, the child needs the dll path as its first argument.
            case "coldstart":
                Cases.ColdStart(o, report, Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet"
                    ? new[] { typeof(Cases).Assembly.Location } : Array.Empty<string>());
                break;
            case "matmul": Cases.Matmul(o, report); break;
            case "mlp": Cases.Mlp(o, report); break;
            case "cnn": Cases.Cnn(o, report); break;
            case "lstm": Cases.Lstm(o, report); break;
            case "gpt": Cases.Gpt2(o, report); break;
            case "encoder": Cases.Encoder(o, report); break;
            case "resnet": Cases.Resnet(o, report); break;
        }
    }
    catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"PeerBench: {c}: {e.Message}");
        return 1;
    }
    var cpu1 = CpuTicks();
    double cores = sw.Elapsed.TotalSeconds * 100;                // clock ticks (USER_HZ = 100) one core gives in that time
    double other = (cpu1.Busy - cpu0.Busy - (cpu1.Self - cpu0.Self)) / cores * 100, steal = (cpu1.Steal - cpu0.Steal) / cores * 100;
    report.Add(c, "case wall time; CPU taken meanwhile by other processes / hypervisor steal (% of one core)",
               $"{sw.Elapsed.TotalSeconds:F0} s; {Math.Max(0, other):F0} % / {steal:F0} %");
}

Console.WriteLine($"\n{header}\ntotal {wall.Elapsed.TotalMinutes:F1} min\n");
int w = report.Rows.Max(x => x.Metric.Length);
Console.WriteLine($"| case        | {"metric".PadRight(w)} | value |");
Console.WriteLine($"|-------------|-{new string('-', w)}-|-------|");
foreach (var (c, m, v) in report.Rows) Console.WriteLine($"| {c,-11} | {m.PadRight(w)} | {v} |");
return 0;

// Busy and steal ticks of the whole machine (/proc/stat) and this process with its waited-for children (/proc/self/stat),
// so that each case can say how much of the two cores something else took while it ran.
static (long Busy, long Steal, long Self) CpuTicks()
{
    var t = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
    string st = File.ReadAllText("/proc/self/stat");
    var f = st[(st.LastIndexOf(')') + 2)..].Split(' ');            // fields from 3 (state) on: utime is field 14, so f[11]
    long self = long.Parse(f[11]) + long.Parse(f[12]) + long.Parse(f[13]) + long.Parse(f[14]);
    return (t[0] + t[1] + t[2] + t[5] + t[6], t[7], self);          // user nice system irq softirq; steal
}

/// <summary>A command line PeerBench cannot run: exit code 2.</summary>
sealed class UsageError(string message) : Exception(message);
