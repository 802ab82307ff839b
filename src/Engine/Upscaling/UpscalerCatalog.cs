using Microsoft.Extensions.Options;
using SdBlazor.Engine.Onnx;

namespace SdBlazor.Engine.Upscaling;

/// <summary>
/// Built-in resamplers plus every <c>*.onnx</c> in <c>&lt;Engine:ModelsPath&gt;/upscalers</c> (named by file name).
/// Model sessions load on first use and stay loaded; the folder is read again on every listing, so models added
/// while the app runs appear without a restart.
/// </summary>
public sealed class UpscalerCatalog(IOptions<EngineOptions> options, SessionFactory sessions) : IUpscalerCatalog, IDisposable
{
    public const string FolderName = "upscalers";

    private readonly Dictionary<string, OnnxUpscaler> _loaded = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _lock = new();

    public string Folder { get; } = Path.Combine(options.Value.ResolveModelsPath(), FolderName);

    public IReadOnlyList<UpscalerInfo> List()
    {
        var list = ResamplerUpscaler.BuiltIn.Select(r => new UpscalerInfo(r.Name, null, null)).ToList();
        foreach (var (name, path) in ModelFiles())
        {
            int? scale;
            lock (_lock) scale = _loaded.TryGetValue(name, out var loaded) ? loaded.Scale : null;
            list.Add(new UpscalerInfo(name, scale, path));
        }
        return list;
    }

    /// <exception cref="InvalidDataException">The model file is not a usable upscaler (the message says why).</exception>
    public IImageUpscaler? Find(string name)
    {
        if (ResamplerUpscaler.BuiltIn.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)) is { } builtIn) return builtIn;
        // Only names listed from the folder are loaded: a client's string never becomes a path.
        var match = ModelFiles().FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
        if (match.Path is null) return null;
        lock (_lock)
        {
            if (_loaded.TryGetValue(match.Name, out var loaded)) return loaded;
            OnnxSession session;
            try
            {
                session = sessions.Create(match.Path, $"upscaler {match.Name}");
            }
            catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException ex)
            {
                throw new InvalidDataException($"Upscaler '{match.Name}' ({match.Path}) cannot be loaded: {ex.Message.Split('\n')[0]}", ex);
            }
            try
            {
                var upscaler = new OnnxUpscaler(match.Name, session);
                _loaded[match.Name] = upscaler;
                return upscaler;
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }
    }

    private IEnumerable<(string Name, string Path)> ModelFiles() =>
        Directory.Exists(Folder)
            ? Directory.EnumerateFiles(Folder, "*.onnx").Order(StringComparer.OrdinalIgnoreCase).Select(p => (Path.GetFileNameWithoutExtension(p), p))
            : [];

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var upscaler in _loaded.Values) upscaler.Dispose();
            _loaded.Clear();
        }
    }
}
