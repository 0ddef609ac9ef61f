using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using Dlc.Syntax;
using static Dlc.Compiler.Jobs.RecordReading;

namespace Dlc.Compiler.Jobs;

/// <summary>An environment agents learn in: what the network sees and how many actions it chooses from.</summary>
public sealed record EnvironmentInfo(string Name, int Observations, int Actions);

/// <summary>How exploration decays: `linear { start = 1.0; stop = 0.05; steps = 10000 }`.</summary>
public sealed record ExplorationSpec(string Kind, double Start, double Stop, int Steps);

/// <summary>An `agent Name { ... }` record, checked; no engine runs agents yet.</summary>
public sealed record AgentSpec(string Name, TextSpan Span, string Network, TextSpan NetworkSpan, EnvironmentInfo Environment, TextSpan EnvironmentSpan)
{
    public string Algorithm { get; init; } = "dqn";
    public bool Double { get; init; }
    public bool Dueling { get; init; }
    public int ReplayCapacity { get; init; } = 100_000;
    public int ReplayBatch { get; init; } = 64;
    public double Gamma { get; init; } = 0.99;
    public int TargetUpdate { get; init; } = 1000;
    public ExplorationSpec Exploration { get; init; } = new("linear", 1.0, 0.05, 10_000);
    public OptimizerSpec Optimizer { get; init; } = new(OptimizerKind.Adam, 1e-3);
    public int Steps { get; init; } = 100_000;
    public ulong Seed { get; init; }
}

/// <summary>Reads `agent Name { network; env; algorithm; replay; gamma; targetUpdate; exploration; ... }`.</summary>
public static class AgentRecordReader
{
    public static readonly IReadOnlyList<EnvironmentInfo> Environments =
    [
        new("cartPole", 4, 2),
        new("mountainCar", 2, 3),
        new("acrobot", 6, 3),
    ];

    private static readonly string[] Fields =
        ["network", "env", "algorithm", "replay", "gamma", "targetUpdate", "exploration", "optimizer", "steps", "seed"];

    public static AgentSpec Read(Module module, JobDecl job)
    {
        var (e, record) = Evaluate(module, job);
        CheckFields(e, record, Fields, $"`agent {job.Name.Name}`");
        Value Require(string name, string example) => record.Find(name)?.Value ?? throw e.Error(DiagnosticCatalog.MissingField, job.Name.Span,
            $"`agent {job.Name.Name}` has no `{name}` field", $"for example `{example}`");

        var network = Require("network", "network = QNet");
        if (network is not ModelRefValue model)
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, network.Span, $"`network` must name a model of this file, found {Describe(network)}");
        var envValue = Require("env", "env = cartPole");
        var environment = Environments.FirstOrDefault(x => envValue is SymbolValue s && s.Name == x.Name)
            ?? throw e.Error(DiagnosticCatalog.InvalidFieldValue, envValue.Span, $"{Describe(envValue)} is not an environment",
                $"the environments are {string.Join(", ", Environments.Select(x => $"`{x.Name}`"))}");
        var spec = new AgentSpec(job.Name.Name, job.Name.Span, model.Name, network.Span, environment, envValue.Span);

        if (record.Find("algorithm")?.Value is { } algorithm)
        {
            var (name, settings, span) = Named(e, algorithm, "the algorithm", "dqn { double = true }");
            if (name != "dqn") throw e.Error(DiagnosticCatalog.InvalidFieldValue, span, $"`{name}` is not an algorithm", "the algorithm is `dqn { double; dueling }`");
            CheckFields(e, settings, ["double", "dueling"], "`dqn`");
            spec = spec with
            {
                Double = settings?.Find("double") is { } d && e.ExpectBool(d.Value, "double"),
                Dueling = settings?.Find("dueling") is { } u && e.ExpectBool(u.Value, "dueling"),
            };
        }
        if (record.Find("replay")?.Value is { } replay)
        {
            var r = Record(e, replay, "replay", "{ capacity = 50000; batch = 64 }");
            CheckFields(e, r, ["capacity", "batch"], "`replay`");
            spec = spec with
            {
                ReplayCapacity = r.Find("capacity") is { } c ? Count(e, c.Value, "capacity") : spec.ReplayCapacity,
                ReplayBatch = r.Find("batch") is { } b ? Count(e, b.Value, "batch") : spec.ReplayBatch,
            };
            if (spec.ReplayBatch > spec.ReplayCapacity)
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, replay.Span,
                    $"a replay batch of {spec.ReplayBatch} cannot be drawn from a capacity of {spec.ReplayCapacity}");
        }
        if (record.Find("gamma")?.Value is { } gamma) spec = spec with { Gamma = UnitInterval(e, gamma, "gamma") };
        if (record.Find("targetUpdate")?.Value is { } target) spec = spec with { TargetUpdate = Count(e, target, "targetUpdate") };
        if (record.Find("exploration")?.Value is { } exploration) spec = spec with { Exploration = ReadExploration(e, exploration) };
        if (record.Find("optimizer")?.Value is { } optimizer) spec = spec with { Optimizer = TrainRecordReader.ReadOptimizer(e, optimizer) };
        if (record.Find("steps")?.Value is { } steps) spec = spec with { Steps = Count(e, steps, "steps") };
        if (record.Find("seed")?.Value is { } seed) spec = spec with { Seed = Seed(e, seed) };
        return spec;
    }

    private static ExplorationSpec ReadExploration(Elaborator e, Value value)
    {
        var (name, settings, span) = Named(e, value, "the exploration", "linear { start = 1.0; stop = 0.05; steps = 10000 }");
        string[] known = name switch
        {
            "linear" or "exponential" => ["start", "stop", "steps"],
            "constant" => ["start"],
            _ => throw e.Error(DiagnosticCatalog.InvalidFieldValue, span, $"`{name}` is not an exploration schedule",
                "the schedules are `linear`, `exponential` and `constant`, each `{ start; stop; steps }`"),
        };
        CheckFields(e, settings, known, $"`{name}`");
        var start = settings?.Find("start") is { } a ? UnitInterval(e, a.Value, "start") : 1.0;
        var stop = settings?.Find("stop") is { } b ? UnitInterval(e, b.Value, "stop") : name == "constant" ? start : 0.05;
        var steps = settings?.Find("steps") is { } c ? Count(e, c.Value, "steps") : 10_000;
        if (stop > start)
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, (settings?.Find("stop")?.Value ?? value).Span,
                $"exploration decays, so `stop` ({Format(stop)}) must not be above `start` ({Format(start)})");
        return new ExplorationSpec(name, start, stop, steps);
    }
}
