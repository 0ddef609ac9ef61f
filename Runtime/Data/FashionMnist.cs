namespace Dlc.Runtime.Data;

/// <summary>
/// Fashion-MNIST (Zalando): 28×28 grey-scale clothing images in 10 classes, 60,000 for training
/// and 10,000 for testing, read from the IDX files installed by the Debian package
/// dataset-fashion-mnist, or from the folder named by <see cref="EnvironmentVariable"/>.
/// </summary>
public static class FashionMnist
{
    public const string DefaultRoot = "/usr/share/datasets/fashion-mnist";
    public const string EnvironmentVariable = "DLC_DATA_FASHION_MNIST";
    public const int ImageSize = 28;

    private const string InstallHelp = "bin/setup installs it (apt-get install dataset-fashion-mnist)";
    private const string ReinstallHelp = "reinstall the data package: apt-get install --reinstall dataset-fashion-mnist";

    /// <summary>The class names in label order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// Loads the "train" or "test" split with pixels scaled to [0, 1] (x / 255). Samples have shape
    /// [784], or [1, 28, 28] when <paramref name="channelFirst"/> is set (for convolutional models).
    /// A <paramref name="cacheDirectory"/> keeps inflated copies of the files, which makes later
    /// loads several times faster (inflating the training images is most of the load time).
    /// </summary>
    public static Dataset Load(string split, string? root = null, bool channelFirst = false, string? cacheDirectory = null)
    {
        var prefix = split switch
        {
            "train" => "train",
            "test" => "t10k",
            _ => throw new ArgumentException($"Fashion-MNIST has the splits \"train\" and \"test\", not \"{split}\"", nameof(split)),
        };
        var folder = ResolveRoot(root);
        var fromPackage = root is null && Environment.GetEnvironmentVariable(EnvironmentVariable) is not { Length: > 0 };
        if (!Directory.Exists(folder))
            throw new DataException(DataException.NotFound, folder,
                $"the Fashion-MNIST folder {folder} does not exist",
                fromPackage ? InstallHelp : $"check the path, or unset {EnvironmentVariable} to use {DefaultRoot}");

        var images = Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz");
        var labels = Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz");
        foreach (var file in new[] { images, labels })
        {
            if (!File.Exists(file))
                throw new DataException(DataException.NotFound, file, $"{file} does not exist",
                    fromPackage ? ReinstallHelp : InstallHelp);
        }
        return IdxReader.LoadDataset(images, labels, $"fashion-mnist/{split}", ClassNames.Count, 1f / 255f,
            ClassNames, channelFirst, fromPackage ? ReinstallHelp : null, cacheDirectory);
    }

    /// <summary>The folder the files are read from: the argument, else the environment variable, else the package's folder.</summary>
    public static string ResolveRoot(string? root = null) =>
        root ?? (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : DefaultRoot);
}
