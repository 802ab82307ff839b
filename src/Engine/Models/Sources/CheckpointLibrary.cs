using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SdBlazor.Engine.Onnx;

namespace SdBlazor.Engine.Models.Sources;

/// <summary>
/// Single-file checkpoints as models: describes a file from its header (cheap, at every refresh), converts it on first
/// use into a diffusers-ONNX folder under <c>Engine:CheckpointCachePath</c> (kept until the file changes: the entry is
/// keyed by the file's path, size and time written, and by the graph set's files), and computes the file's SHA-256
/// once per version (kept in <c>hashes.json</c> there, as A1111 keeps its <c>cache.json</c>).
/// </summary>
public sealed class CheckpointLibrary
{
    /// <summary>Bumped when the conversion's output changes, so older cache entries are not reused.</summary>
    public const int ConverterVersion = 1;
    private const string CompleteMarker = ".sdblazor-complete";

    private readonly ILogger _logger;
    private readonly object _hashLock = new();
    private Dictionary<string, HashRecord>? _hashes;
    private IReadOnlyList<GraphSet>? _graphSets;

    /// <param name="provider">The execution provider sessions will run on (<see cref="SessionFactory.Cpu"/>, …): decides fp16 or fp32 (<see cref="CheckpointPrecision"/>).</param>
    public CheckpointLibrary(string architecturesPath, string cachePath, ModelDataFiles data, ILogger logger, string provider = SessionFactory.Cpu)
    {
        Provider = provider;
        ArchitecturesPath = architecturesPath;
        CachePath = cachePath;
        Data = data;
        _logger = logger;
    }

    public string ArchitecturesPath { get; }
    public string Provider { get; }

    /// <summary>What <paramref name="entry"/> converts to on this library's provider.</summary>
    public WeightPrecision PrecisionOf(CheckpointEntry entry) =>
        entry.Layout is { } layout ? CheckpointPrecision.Choose(Provider, layout) : WeightPrecision.Float32;
    public string CachePath { get; }
    public ModelDataFiles Data { get; }

    public IReadOnlyList<GraphSet> GraphSets => _graphSets ??= GraphSet.LoadAll(ArchitecturesPath, w => _logger.LogWarning("{Problem}", w));

    /// <summary>Graph sets are read again (a new one may have been installed).</summary>
    public void Reload() => _graphSets = null;

    public static bool IsCheckpointFile(string path) =>
        path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || IsPickle(path);

    public static bool IsPickle(string path) =>
        CheckpointEntry.PickleExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads the header and decides what the file is; never throws for a bad file (the entry carries the error).</summary>
    public CheckpointEntry Describe(string path)
    {
        var info = new FileInfo(path);
        var name = Path.GetFileNameWithoutExtension(path);
        if (IsPickle(path))
        {
            return new CheckpointEntry
            {
                Name = name, FilePath = info.FullName, Length = info.Length, LastWriteUtc = info.LastWriteTimeUtc,
                Error = $"Checkpoint '{name}': {info.Name} is a pickle file ({info.Extension}); SdBlazor never opens pickle files because loading one can run any code it contains. Convert it to .safetensors (e.g. with a trusted tool) and put that file in the models folder.",
            };
        }
        try
        {
            var (_, _, tensors, metadata) = SafetensorsFile.ReadHeader(path, name);
            var layout = CheckpointInspector.Inspect(name, info.FullName, tensors, metadata, GraphSets);
            return new CheckpointEntry { Name = name, FilePath = info.FullName, Length = info.Length, LastWriteUtc = info.LastWriteTimeUtc, Layout = layout };
        }
        catch (CheckpointException ex)
        {
            return new CheckpointEntry { Name = name, FilePath = info.FullName, Length = info.Length, LastWriteUtc = info.LastWriteTimeUtc, Error = ex.Message };
        }
    }

    /// <summary>
    /// The model folder for <paramref name="entry"/>: from the cache when its entry is current, else converted now
    /// (minutes for a full-size model; progress is reported by phase). Throws <see cref="CheckpointException"/> naming the model.
    /// </summary>
    public ModelFolder Prepare(CheckpointEntry entry, IProgress<ConversionProgress>? progress, CancellationToken cancellationToken)
    {
        if (entry.Error is not null) throw new CheckpointException(entry.Name, StripName(entry));
        if (!entry.IsCurrent()) throw new CheckpointException(entry.Name, "the file changed or disappeared since the models folder was last scanned; refresh the model list.");
        var layout = entry.Layout!;
        var target = CacheFolder(entry);
        var precision = PrecisionOf(entry);
        if (!File.Exists(Path.Combine(target, CompleteMarker)))
        {
            Directory.CreateDirectory(CachePath);
            CheckDiskSpace(entry, layout);
            var staging = Path.Combine(CachePath, $".staging-{Guid.NewGuid():N}");
            try
            {
                progress?.Report(new ConversionProgress("Reading checkpoint", 0, 1));
                using (var file = SafetensorsFile.Open(entry.FilePath, entry.Name))
                {
                    // The header was checked when the entry was made; the file could have been replaced since.
                    var current = CheckpointInspector.Inspect(entry.Name, entry.FilePath, file.Tensors, file.Metadata, [layout.GraphSet]);
                    CheckpointConverter.Convert(file, current, Data, staging, progress, cancellationToken, precision);
                    layout = current;
                }
                if (layout.Prediction == PredictionType.Unknown) layout = DecidePrediction(layout, staging, progress, precision);
                File.WriteAllText(Path.Combine(staging, CompleteMarker), $"{entry.FilePath}\n{entry.Length}\n{entry.LastWriteUtc:O}\n");
                RemoveOlderEntries(entry, target);
                if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
                Directory.Move(staging, target);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CheckpointException(entry.Name, $"converting into {CachePath} failed: {ex.Message}", ex);
            }
            catch (NotSupportedException ex)
            {
                // Only an installed graph set unlike the shipped ones gets here (sub-graphs, external constants).
                throw new CheckpointException(entry.Name, $"graph set {layout.GraphSet.Name} cannot be converted to fp16 for {Provider} ({ex.Message}); set Engine:ExecutionProvider to Cpu to use it in fp32.", ex);
            }
            finally
            {
                if (Directory.Exists(staging)) TryDelete(staging);
            }
            _logger.LogInformation("Converted checkpoint {Name} ({Family}, {Prediction}: {Why}, graph set {Set}, {Precision} for {Provider}) into {Folder}",
                entry.Name, layout.Family, layout.Prediction, layout.PredictionSource, layout.GraphSet.Name, precision, Provider, target);
            if (layout.UnusedKeys.Count > 0)
                _logger.LogInformation("Checkpoint {Name}: {Count} key(s) not used by graph set {Set}, like {Keys}",
                    entry.Name, layout.UnusedKeys.Count, layout.GraphSet.Name, string.Join(", ", layout.UnusedKeys.Take(5)));
        }
        try
        {
            progress?.Report(new ConversionProgress("Checking converted model", 0, 1));
            return ModelFolder.Open(target, entry.Name);
        }
        catch (ModelFolderException ex)
        {
            // A damaged cache entry (disk full earlier, edited by hand): drop it so the next use converts again.
            TryDelete(target);
            throw new CheckpointException(entry.Name, $"the converted model in the cache was damaged and has been removed; try again ({ex.Message}).", ex);
        }
    }

    private CheckpointLayout DecidePrediction(CheckpointLayout layout, string folder, IProgress<ConversionProgress>? progress, WeightPrecision precision)
    {
        progress?.Report(new ConversionProgress("Testing for v-prediction", 0, 1));
        var hidden = layout.GraphSet.Info.TextEncoders.FirstOrDefault()?.HiddenSize ?? 1024;
        var offset = VPredictionProbe.MeanOffset(Path.Combine(folder, "unet", "model.onnx"), hidden);
        var prediction = VPredictionProbe.Decide(offset);
        var decided = layout with
        {
            Prediction = prediction,
            PredictionSource = string.Create(CultureInfo.InvariantCulture, $"A1111's SD 2.x test: mean(UNet(0.5) - 0.5) at t=999 is {offset:0.###}"),
        };
        CheckpointConverter.WriteFolderFiles(decided, Data, folder, precision);
        return decided;
    }

    private void CheckDiskSpace(CheckpointEntry entry, CheckpointLayout layout)
    {
        var need = layout.OutputBytes + layout.GraphSet.Info.Components.Sum(c => new FileInfo(layout.GraphSet.GraphPath(c)).Length) + (64L << 20);
        long free;
        try
        {
            free = new DriveInfo(CachePath).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Cannot tell the free space at {Path}: {Problem}", CachePath, ex.Message);
            return;
        }
        if (free < need)
            throw new CheckpointException(entry.Name, string.Create(CultureInfo.InvariantCulture,
                $"converting it needs {need / 1e9:0.0} GB free in {CachePath}, but only {free / 1e9:0.0} GB are free."));
    }

    /// <summary>Whether a complete conversion of <paramref name="entry"/> is in the cache (its first use will not convert).</summary>
    public bool IsConverted(CheckpointEntry entry) => File.Exists(Path.Combine(CacheFolder(entry), CompleteMarker));

    public string CacheFolder(CheckpointEntry entry)
    {
        var key = new StringBuilder()
            .Append("v=").Append(ConverterVersion)
            .Append(";file=").Append(entry.FilePath).Append('=').Append(entry.Length).Append('@').Append(entry.LastWriteUtc.Ticks.ToString(CultureInfo.InvariantCulture));
        if (entry.Layout is { } layout)
        {
            key.Append(";set=").Append(layout.GraphSet.Name);
            // fp32 entries keep the key they had before fp16 conversion existed (no re-conversion after an update).
            if (CheckpointPrecision.Choose(Provider, layout) == WeightPrecision.Float16) key.Append(";precision=fp16");
            foreach (var component in layout.GraphSet.Info.Components)
            {
                foreach (var file in (string[])["model.onnx", "weights.json"])
                {
                    var info = new FileInfo(Path.Combine(layout.GraphSet.Path, component, file));
                    key.Append(';').Append(component).Append('/').Append(file).Append('=').Append(info.Length).Append('@').Append(info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture));
                }
            }
        }
        return Path.Combine(CachePath, $"{Prefix(entry)}{Hash(key.ToString())}");
    }

    private static string Prefix(CheckpointEntry entry) => $"{Sanitize(entry.Name)}-{Hash(entry.FilePath)}-";

    private void RemoveOlderEntries(CheckpointEntry entry, string keep)
    {
        if (!Directory.Exists(CachePath)) return;
        foreach (var dir in Directory.EnumerateDirectories(CachePath, Prefix(entry) + "*"))
            if (!string.Equals(Path.GetFullPath(dir), Path.GetFullPath(keep), StringComparison.Ordinal)) TryDelete(dir);
    }

    private void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not remove {Folder}: {Problem}", dir, ex.Message);
        }
    }

    private static string StripName(CheckpointEntry entry)
    {
        var prefix = $"Checkpoint '{entry.Name}': ";
        return entry.Error!.StartsWith(prefix, StringComparison.Ordinal) ? entry.Error[prefix.Length..] : entry.Error;
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];

    private static string Sanitize(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        var text = new string(chars);
        return text.Length > 48 ? text[..48] : text;
    }

    // ------------------------------------------------------------------------------------------------ hashes
    /// <summary>The file's SHA-256 when already computed for this version of the file (size and time written), else null.</summary>
    public string? KnownSha256(CheckpointEntry entry)
    {
        lock (_hashLock)
        {
            return LoadHashes().TryGetValue(entry.FilePath, out var record) && record.Length == entry.Length && record.LastWriteTicks == entry.LastWriteUtc.Ticks
                ? record.Sha256
                : null;
        }
    }

    /// <summary>Computes (minutes for a large file on a slow disk) or returns the file's SHA-256; kept across restarts.</summary>
    public string Sha256(CheckpointEntry entry, CancellationToken cancellationToken = default)
    {
        if (KnownSha256(entry) is { } known) return known;
        string hash;
        using (var stream = new FileStream(entry.FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 20];
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                sha.AppendData(buffer, 0, read);
            }
            hash = Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        // The file may have been replaced while it was read: only a hash of an unchanged file is kept.
        if (!entry.IsCurrent()) throw new CheckpointException(entry.Name, "the file changed while its hash was computed.");
        lock (_hashLock)
        {
            var hashes = LoadHashes();
            hashes[entry.FilePath] = new HashRecord(entry.Length, entry.LastWriteUtc.Ticks, hash);
            SaveHashes(hashes);
        }
        return hash;
    }

    private string HashesPath => Path.Combine(CachePath, "hashes.json");

    private Dictionary<string, HashRecord> LoadHashes()
    {
        if (_hashes is not null) return _hashes;
        try
        {
            _hashes = File.Exists(HashesPath)
                ? JsonSerializer.Deserialize<Dictionary<string, HashRecord>>(File.ReadAllText(HashesPath)) ?? []
                : [];
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            _logger.LogWarning("Ignoring unreadable {File}: {Problem}", HashesPath, ex.Message);
            _hashes = [];
        }
        return _hashes;
    }

    private void SaveHashes(Dictionary<string, HashRecord> hashes)
    {
        try
        {
            Directory.CreateDirectory(CachePath);
            var temp = HashesPath + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(hashes));
            File.Move(temp, HashesPath, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not save {File}: {Problem}", HashesPath, ex.Message);
        }
    }

    private sealed record HashRecord(long Length, long LastWriteTicks, string Sha256);
}
