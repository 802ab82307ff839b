namespace SdBlazor.Engine.Models.Sources;

/// <summary>
/// A single-file model in the models folder (<c>NAME.safetensors</c>, or a pickle file listed only to say it is
/// refused), as the last refresh found it: size and time written identify the file's version; <see cref="Error"/>
/// says why it cannot be used, <see cref="Layout"/> what its header says it is.
/// </summary>
public sealed class CheckpointEntry
{
    public static readonly string[] PickleExtensions = [".ckpt", ".pt", ".pth", ".bin"];

    public required string Name { get; init; }
    public required string FilePath { get; init; }
    public required long Length { get; init; }
    public required DateTime LastWriteUtc { get; init; }
    public CheckpointLayout? Layout { get; init; }
    public string? Error { get; init; }

    public string FileName => Path.GetFileName(FilePath);

    /// <summary>The folder the last conversion produced, once loaded this run (null until first use).</summary>
    internal ModelFolder? Prepared { get; set; }

    /// <summary>True while the file on disk is the one this entry describes.</summary>
    public bool IsCurrent()
    {
        var info = new FileInfo(FilePath);
        return info.Exists && info.Length == Length && info.LastWriteTimeUtc == LastWriteUtc;
    }
}
