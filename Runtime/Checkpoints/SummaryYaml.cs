using System.Text;
using YamlDotNet.Serialization;

namespace Dlc.Runtime.Checkpoints;

/// <summary>Writes a run's summary.yaml (final metrics, settings, timings) atomically, keys in the given order.</summary>
public static class SummaryYaml
{
    public static void Write(string path, IReadOnlyDictionary<string, object?> values)
    {
        var yaml = new SerializerBuilder().Build().Serialize(values);
        AtomicFile.WriteAllBytes(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(yaml));
    }
}
