using System.Text.Json;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Api;

/// <summary>The A1111 settings SdBlazor keeps across restarts.</summary>
public sealed record SdApiSettings
{
    /// <summary>Model folder name selected with <c>sd_model_checkpoint</c>; null means the engine's default model.</summary>
    public string? SelectedModel { get; init; }
}

/// <summary>
/// Keeps <see cref="SdApiSettings"/> in a small JSON file in the data folder (written to a temporary file and renamed,
/// so a crash never leaves half a file). A damaged file is logged and treated as empty rather than failing the API.
/// </summary>
public sealed class SdApiSettingsStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly object _gate = new();
    private readonly string _path;
    private SdApiSettings _current;

    public SdApiSettingsStore(DataFolder dataFolder, IOptions<SdApiOptions> options, ILogger<SdApiSettingsStore> logger)
    {
        _path = dataFolder.File(options.Value.SettingsFile);
        _current = Load(_path, logger);
    }

    public SdApiSettings Current
    {
        get { lock (_gate) return _current; }
    }

    public void Update(Func<SdApiSettings, SdApiSettings> change)
    {
        lock (_gate)
        {
            var next = change(_current);
            var temp = _path + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(next, Json));
            File.Move(temp, _path, overwrite: true);
            _current = next;
        }
    }

    private static SdApiSettings Load(string path, ILogger logger)
    {
        if (!File.Exists(path)) return new SdApiSettings();
        try
        {
            return JsonSerializer.Deserialize<SdApiSettings>(File.ReadAllText(path), Json) ?? new SdApiSettings();
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            logger.LogWarning(ex, "Ignoring unreadable API settings file {Path}", path);
            return new SdApiSettings();
        }
    }
}
