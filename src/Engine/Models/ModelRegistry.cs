using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Engine.Models;

/// <summary>
/// The models under <c>Engine:ModelsPath</c>: every subfolder that holds a <c>model_index.json</c> is a model named
/// after the folder. Folders that fail the cheap layout check are skipped with a logged warning (they would fail to load).
/// </summary>
public sealed class ModelRegistry
{
    private readonly ILogger<ModelRegistry> _logger;
    private readonly object _gate = new();
    private readonly Dictionary<string, string?> _hashes = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, ModelFolder> _models = new Dictionary<string, ModelFolder>();

    public ModelRegistry(IOptions<EngineOptions> options, ILogger<ModelRegistry> logger)
    {
        _logger = logger;
        ModelsPath = options.Value.ResolveModelsPath();
        DefaultModel = options.Value.DefaultModel;
        Refresh();
    }

    public string ModelsPath { get; }
    public string DefaultModel { get; }

    public IReadOnlyList<ModelDescriptor> List()
    {
        lock (_gate)
        {
            return _models.Values.OrderBy(m => m.Name, StringComparer.OrdinalIgnoreCase)
                .Select(m => new ModelDescriptor(m.Name, m.Path, m.NativeWidth, m.NativeHeight, m.SupportsImg2Img, _hashes.GetValueOrDefault(m.Name)))
                .ToList();
        }
    }

    public IReadOnlyCollection<string> Names
    {
        get { lock (_gate) return _models.Keys.ToList(); }
    }

    public bool TryGet(string name, out ModelFolder folder)
    {
        lock (_gate) return _models.TryGetValue(name, out folder!);
    }

    /// <summary>SHA-256 (lower-case hex) of <c>unet/model.onnx</c>; computed once per model and cached.</summary>
    public string Sha256(ModelFolder folder)
    {
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
        if (Directory.Exists(ModelsPath))
        {
            foreach (var dir in Directory.EnumerateDirectories(ModelsPath))
            {
                if (!File.Exists(Path.Combine(dir, "model_index.json"))) continue;
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
        }
        _logger.LogInformation("Found {Count} model(s) in {Folder}", found.Count, ModelsPath);
    }
}
