using System.Text.Json;
using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Web.Models;

/// <summary>
/// A model's licence, from (in this order) a sidecar <c>NAME.license.json</c> beside it (written by imports from the
/// repo's card), the checkpoint's <c>__metadata__</c> (<c>modelspec.license</c>, the Stability model spec), or the
/// <c>license:</c> line of a folder's model card front matter (<c>README.md</c>).
/// </summary>
public static class ModelLicense
{
    public const string Unknown = "unknown";
    private const long MaxSidecarBytes = 64 * 1024;

    public static string Find(string modelsPath, string name, string path)
    {
        try
        {
            if (ReadSidecar(modelsPath, name) is { } sidecar) return sidecar;
            if (File.Exists(path) && path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            {
                var metadata = SafetensorsFile.ReadHeader(path, name).Metadata;
                if (metadata.TryGetValue("modelspec.license", out var license) && !string.IsNullOrWhiteSpace(license)) return license.Trim();
            }
            if (Directory.Exists(path) && FromModelCard(Path.Combine(path, "README.md")) is { } card) return card;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or CheckpointException)
        {
        }
        return Unknown;
    }

    /// <summary>The <c>license:</c> key of a model card's YAML front matter (between the leading <c>---</c> lines).</summary>
    public static string? FromModelCard(string readmePath)
    {
        if (!File.Exists(readmePath)) return null;
        using var reader = new StreamReader(readmePath);
        if (reader.ReadLine()?.Trim() != "---") return null;
        for (var i = 0; i < 200 && reader.ReadLine() is { } line; i++)
        {
            if (line.Trim() == "---") break;
            if (line.StartsWith("license:", StringComparison.Ordinal))
            {
                var value = line["license:".Length..].Trim().Trim('"', '\'');
                return value.Length > 0 ? value : null;
            }
        }
        return null;
    }

    public static void WriteSidecar(string modelsPath, string name, string license, string source) =>
        File.WriteAllText(SidecarPath(modelsPath, name), JsonSerializer.Serialize(new { license, source }));

    public static string SidecarPath(string modelsPath, string name) => Path.Combine(modelsPath, name + ".license.json");

    private static string? ReadSidecar(string modelsPath, string name)
    {
        var path = SidecarPath(modelsPath, name);
        if (!File.Exists(path) || new FileInfo(path).Length > MaxSidecarBytes) return null;
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("license", out var l) && l.ValueKind == JsonValueKind.String
            ? l.GetString() : null;
    }
}
