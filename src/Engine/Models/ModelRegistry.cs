using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Engine.Models;

/// <summary>
/// The models under <c>Engine:ModelsPath</c>: every subfolder that holds a <c>model_index.json</c> is a model named
/// after the folder, and every <c>NAME.safetensors</c> file a model named NAME (A1111's folder drop), converted to a
/// diffusers-ONNX folder on first use (<see cref="CheckpointLibrary"/>). Folders that fail the cheap layout check are
/// skipped with a logged warning; files that cannot be used (pickle formats, damaged or unknown checkpoints) are listed
/// with the reason, so a user sees why their file does not work.
/// </summary>
public sealed class ModelRegistry
{
    private readonly ILogger<ModelRegistry> _logger;
    private readonly object _gate = new();
    private readonly Dictionary<string, string?> _hashes = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, ModelFolder> _models = new Dictionary<string, ModelFolder>();
    private IReadOnlyDictionary<string, CheckpointEntry> _checkpoints = new Dictionary<string, CheckpointEntry>();
    private CancellationTokenSource _hashing = new();

    public ModelRegistry(IOptions<EngineOptions> options, ILogger<ModelRegistry> logger)
    {
        _logger = logger;
        ModelsPath = options.Value.ResolveModelsPath();
        DefaultModel = options.Value.DefaultModel;
        Checkpoints = new CheckpointLibrary(options.Value.ResolveArchitecturesPath(), options.Value.ResolveCheckpointCachePath(), ModelDataFiles.Default(), logger,
            CheckpointPrecision.ExpectedProvider(options.Value.ExecutionProvider));
        Refresh();
    }

    public string ModelsPath { get; }
    public string DefaultModel { get; }
    public CheckpointLibrary Checkpoints { get; }

    public IReadOnlyList<ModelDescriptor> List()
    {
        lock (_gate)
        {
            var folders = _models.Values.Select(m => new ModelDescriptor(m.Name, m.Path, m.NativeWidth, m.NativeHeight, m.SupportsImg2Img, _hashes.GetValueOrDefault(m.Name), IsSdxl: m.IsSdxl));
            var files = _checkpoints.Values.Select(c => new ModelDescriptor(c.Name, c.FilePath,
                c.Layout?.NativeSize ?? ModelFolder.DefaultSampleSize * ModelFolder.VaeScale, c.Layout?.NativeSize ?? ModelFolder.DefaultSampleSize * ModelFolder.VaeScale,
                c.Layout?.HasVaeEncoder ?? false, Checkpoints.KnownSha256(c), c.FileName, c.Error, Sources.CheckpointFamily.IsSdxl(c.Layout?.Family)));
            return folders.Concat(files).OrderBy(m => m.Name, StringComparer.OrdinalIgnoreCase).ToList();
        }
    }

    public IReadOnlyCollection<string> Names
    {
        get { lock (_gate) return _models.Keys.Concat(_checkpoints.Keys).ToList(); }
    }

    /// <summary>A folder model, or a checkpoint already prepared (converted and checked) for the file as it is now.</summary>
    public bool TryGet(string name, out ModelFolder folder)
    {
        lock (_gate)
        {
            if (_models.TryGetValue(name, out folder!)) return true;
            if (_checkpoints.TryGetValue(name, out var entry) && entry.Prepared is { } prepared && entry.IsCurrent())
            {
                folder = prepared;
                return true;
            }
            return false;
        }
    }

    /// <summary>The single-file model named <paramref name="name"/> (folders take precedence over files of the same name).</summary>
    public CheckpointEntry? FindCheckpoint(string name)
    {
        lock (_gate) return _models.ContainsKey(name) ? null : _checkpoints.GetValueOrDefault(name);
    }

    /// <summary>
    /// Makes a checkpoint model usable: converts it (or loads its cached conversion) so that <see cref="TryGet"/> finds
    /// it. A file changed since the last refresh is described again first. Throws <see cref="CheckpointException"/>.
    /// </summary>
    public ModelFolder Prepare(CheckpointEntry entry, IProgress<ConversionProgress>? progress, CancellationToken cancellationToken)
    {
        if (entry.Prepared is { } ready && entry.IsCurrent()) return ready;
        if (!entry.IsCurrent() && File.Exists(entry.FilePath))
        {
            var fresh = Checkpoints.Describe(entry.FilePath);
            lock (_gate)
            {
                var updated = new Dictionary<string, CheckpointEntry>(_checkpoints, StringComparer.Ordinal) { [entry.Name] = fresh };
                _checkpoints = updated;
            }
            entry = fresh;
        }
        var folder = Checkpoints.Prepare(entry, progress, cancellationToken);
        lock (_gate) entry.Prepared = folder;
        return folder;
    }

    /// <summary>SHA-256 (lower-case hex): of the checkpoint file for a single-file model (A1111's model hash), else of <c>unet/model.onnx</c>; computed once and cached.</summary>
    public string Sha256(ModelFolder folder)
    {
        if (FindCheckpoint(folder.Name) is { } entry && entry.Prepared?.Path == folder.Path) return Checkpoints.Sha256(entry);
        lock (_gate)
        {
            if (_hashes.TryGetValue(folder.Name, out var known) && known is not null) return known;
        }
        using var stream = File.OpenRead(folder.UNetPath);
        var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        lock (_gate) _hashes[folder.Name] = hash;
        return hash;
    }

    public void Refresh()
    {
        var found = new Dictionary<string, ModelFolder>(StringComparer.Ordinal);
        var files = new Dictionary<string, CheckpointEntry>(StringComparer.Ordinal);
        Checkpoints.Reload();
        if (Directory.Exists(ModelsPath))
        {
            foreach (var dir in Directory.EnumerateDirectories(ModelsPath))
            {
                // Hidden folders are never models (an import copies into one before it is renamed into place).
                if (Path.GetFileName(dir).StartsWith('.') || !File.Exists(Path.Combine(dir, "model_index.json"))) continue;
                try
                {
                    var folder = ModelFolder.Describe(dir);
                    found[folder.Name] = folder;
                }
                catch (ModelFolderException ex)
                {
                    _logger.LogWarning("Skipping model folder {Folder}: {Problem}", dir, ex.Message);
                }
            }
            Dictionary<string, CheckpointEntry> previous;
            lock (_gate) previous = new(_checkpoints, StringComparer.Ordinal);
            foreach (var file in Directory.EnumerateFiles(ModelsPath).Where(CheckpointLibrary.IsCheckpointFile).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                if (found.ContainsKey(name))
                {
                    _logger.LogWarning("Ignoring {File}: a model folder named {Name} exists", file, name);
                    continue;
                }
                // A pickle file never replaces a usable .safetensors of the same name.
                if (files.TryGetValue(name, out var existing) && existing.Error is null) continue;
                var entry = previous.TryGetValue(name, out var old) && old.FilePath == Path.GetFullPath(file) && old.IsCurrent() && old.Error is null
                    ? old
                    : Checkpoints.Describe(file);
                if (entry.Error is not null) _logger.LogWarning("{Problem}", entry.Error);
                files[name] = entry;
            }
        }
        else
        {
            _logger.LogWarning("Models folder {Folder} does not exist; no models are available.", ModelsPath);
        }

        lock (_gate)
        {
            // Files may have been replaced in place: hashes are recomputed on demand.
            _hashes.Clear();
            _models = found;
            _checkpoints = files;
        }
        _logger.LogInformation("Found {Count} model folder(s) and {Files} checkpoint file(s) in {Folder}", found.Count, files.Count, ModelsPath);
        HashInBackground(files.Values.Where(e => e.Error is null).ToList());
    }

    /// <summary>A1111 lists a checkpoint's hash once known: hash new files one at a time on a low-priority thread.</summary>
    private void HashInBackground(IReadOnlyList<CheckpointEntry> entries)
    {
        _hashing.Cancel();
        var cancel = _hashing = new CancellationTokenSource();
        var pending = entries.Where(e => Checkpoints.KnownSha256(e) is null).ToList();
        if (pending.Count == 0) return;
        var thread = new Thread(() =>
        {
            foreach (var entry in pending)
            {
                if (cancel.IsCancellationRequested) return;
                try
                {
                    Checkpoints.Sha256(entry, cancel.Token);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CheckpointException or OperationCanceledException)
                {
                    _logger.LogDebug("Hash of {File} not computed: {Problem}", entry.FilePath, ex.Message);
                }
            }
        })
        { IsBackground = true, Priority = ThreadPriority.BelowNormal, Name = "checkpoint hashes" };
        thread.Start();
    }
}
