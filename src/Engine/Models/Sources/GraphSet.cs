using System.Text.Json;
using System.Text.Json.Serialization;

namespace SdBlazor.Engine.Models.Sources;

/// <summary>
/// An architecture graph set shipped with the app (<c>Architectures/&lt;name&gt;/</c>): the ONNX graphs of one Stable
/// Diffusion variant without weights, and per component a manifest saying which diffusers key fills which byte range
/// of that component's <c>weights.bin</c> (written by <c>tools/make_sd_models/make_graph_set.py</c>).
/// </summary>
public sealed class GraphSet
{
    private GraphSet(string path, ArchitectureInfo info, IReadOnlyDictionary<string, WeightManifest> manifests)
    {
        Path = path;
        Info = info;
        Manifests = manifests;
    }

    public string Path { get; }
    public string Name => Info.Name;
    public ArchitectureInfo Info { get; }

    /// <summary>Component name (<c>unet</c>, <c>text_encoder</c>, …) → its manifest.</summary>
    public IReadOnlyDictionary<string, WeightManifest> Manifests { get; }

    public string GraphPath(string component) => System.IO.Path.Combine(Path, component, "model.onnx");

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    public static GraphSet Load(string folder)
    {
        var file = System.IO.Path.Combine(folder, "architecture.json");
        ArchitectureInfo info;
        try
        {
            info = JsonSerializer.Deserialize<ArchitectureInfo>(File.ReadAllText(file), Json)
                ?? throw new InvalidDataException("architecture.json is empty");
        }
        catch (Exception ex) when (ex is JsonException or IOException or InvalidDataException)
        {
            throw new InvalidDataException($"Graph set '{folder}': architecture.json cannot be read: {ex.Message}", ex);
        }
        if (string.IsNullOrWhiteSpace(info.Name) || info.Components is not { Count: > 0 })
            throw new InvalidDataException($"Graph set '{folder}': architecture.json needs a name and components.");

        var manifests = new Dictionary<string, WeightManifest>(StringComparer.Ordinal);
        foreach (var component in info.Components)
        {
            var path = System.IO.Path.Combine(folder, component, "weights.json");
            try
            {
                var manifest = JsonSerializer.Deserialize<WeightManifest>(File.ReadAllText(path), Json)
                    ?? throw new InvalidDataException("weights.json is empty");
                manifest.Check(component);
                manifests[component] = manifest;
            }
            catch (Exception ex) when (ex is JsonException or IOException or InvalidDataException)
            {
                throw new InvalidDataException($"Graph set '{info.Name}': {component}/weights.json cannot be read: {ex.Message}", ex);
            }
            if (!File.Exists(System.IO.Path.Combine(folder, component, "model.onnx")))
                throw new InvalidDataException($"Graph set '{info.Name}': {component}/model.onnx is missing.");
        }
        return new GraphSet(System.IO.Path.GetFullPath(folder), info, manifests);
    }

    /// <summary>Every graph set under <paramref name="root"/> (folders with an <c>architecture.json</c>); broken ones are reported, not thrown.</summary>
    public static IReadOnlyList<GraphSet> LoadAll(string root, Action<string>? warn = null)
    {
        var sets = new List<GraphSet>();
        if (!Directory.Exists(root)) return sets;
        foreach (var dir in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            if (!File.Exists(System.IO.Path.Combine(dir, "architecture.json"))) continue;
            try
            {
                sets.Add(Load(dir));
            }
            catch (InvalidDataException ex)
            {
                warn?.Invoke(ex.Message);
            }
        }
        return sets;
    }
}

/// <summary><c>architecture.json</c>.</summary>
public sealed class ArchitectureInfo
{
    public string Name { get; set; } = "";

    /// <summary><c>sd1</c>, <c>sd2</c> or <c>sdxl</c>.</summary>
    public string Family { get; set; } = "";

    [JsonPropertyName("prediction_type")]
    public string? PredictionType { get; set; }

    [JsonPropertyName("sample_size")]
    public int SampleSize { get; set; } = 64;

    [JsonPropertyName("vae_scale_factor")]
    public float VaeScaleFactor { get; set; } = 0.18215f;

    [JsonPropertyName("text_encoders")]
    public List<TextEncoderInfo> TextEncoders { get; set; } = [];

    public List<string> Components { get; set; } = [];
}

public sealed class TextEncoderInfo
{
    public string Component { get; set; } = "";

    [JsonPropertyName("hidden_size")]
    public int HiddenSize { get; set; }

    /// <summary><c>eos</c> (CLIP ViT-L) or <c>zero</c> (OpenCLIP: token 0, <c>!</c>).</summary>
    [JsonPropertyName("pad_with")]
    public string PadWith { get; set; } = "eos";
}

/// <summary>A component's <c>weights.json</c>.</summary>
public sealed class WeightManifest
{
    public int Format { get; set; }
    public string Component { get; set; } = "";

    [JsonPropertyName("weights_file")]
    public string WeightsFile { get; set; } = "weights.bin";

    [JsonPropertyName("total_bytes")]
    public long TotalBytes { get; set; }

    public List<ManifestTensor> Tensors { get; set; } = [];

    internal void Check(string component)
    {
        if (Format != 1) throw new InvalidDataException($"format {Format} is not supported (expected 1).");
        if (WeightsFile.Contains('/') || WeightsFile.Contains('\\') || WeightsFile is "" or "." or "..")
            throw new InvalidDataException($"weights_file '{WeightsFile}' must be a plain file name.");
        foreach (var t in Tensors)
        {
            var elements = t.Shape.Aggregate(1L, (a, d) => d < 0 ? -1 : a * d);
            if (t.Offset < 0 || t.Length != elements * 4 || t.Offset + t.Length > TotalBytes)
                throw new InvalidDataException($"{component}: tensor '{t.Initializer}' ({t.Key}) has an inconsistent shape, offset or length.");
            if (t.Transform is not ("none" or "transpose") || t.Transform == "transpose" && t.Shape.Count != 2)
                throw new InvalidDataException($"{component}: tensor '{t.Initializer}' has an unknown transform '{t.Transform}'.");
        }
    }
}

public sealed class ManifestTensor
{
    public string Initializer { get; set; } = "";
    public string Key { get; set; } = "";
    public string Transform { get; set; } = "none";
    public List<long> Shape { get; set; } = [];
    public long Offset { get; set; }
    public long Length { get; set; }

    /// <summary>The diffusers weight's own shape: the initializer's, reversed back when the graph stores it transposed.</summary>
    public long[] KeyShape => Transform == "transpose" ? [Shape[1], Shape[0]] : [.. Shape];
}
