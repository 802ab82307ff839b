using System.Text.Json;
using System.Text.Json.Nodes;
using SdBlazor.Engine.Schedulers;

namespace SdBlazor.Engine.Models;

/// <summary>
/// A validated model folder in the Hugging Face diffusers ONNX layout. <see cref="Open"/> checks every file the engine
/// will read (existence, JSON syntax, ONNX structure, external-data paths) so that a broken folder fails up front with
/// a message that names the file, not halfway through a generation.
/// </summary>
public sealed class ModelFolder
{
    public const float DefaultScalingFactor = 0.18215f;
    public const int DefaultSampleSize = 64;
    public const int VaeScale = 8;

    private ModelFolder(string path, string? name = null)
    {
        Path = path;
        Name = name ?? System.IO.Path.GetFileName(path);
    }

    /// <summary>The model's name in requests: the folder's name, or the checkpoint's for a folder converted from one.</summary>
    public string Name { get; }
    public string Path { get; }

    public string TokenizerFolder => Combine("tokenizer");
    public string TextEncoderPath => Combine("text_encoder", "model.onnx");
    public string UNetPath => Combine("unet", "model.onnx");
    public string VaeDecoderPath => Combine("vae_decoder", "model.onnx");
    public string? VaeEncoderPath { get; private set; }

    /// <summary>SDXL's second text encoder (OpenCLIP bigG with projection); null for SD 1.x/2.x folders.</summary>
    public string? TextEncoder2Path { get; private set; }
    public string Tokenizer2Folder => Combine("tokenizer_2");

    /// <summary>An SDXL folder (<c>text_encoder_2</c> present); loading also checks that the UNet takes <c>text_embeds</c>/<c>time_ids</c>.</summary>
    public bool IsSdxl => TextEncoder2Path is not null;

    /// <summary>
    /// An SDXL refiner (diffusers' refiner layout: <c>text_encoder_2</c> and <c>tokenizer_2</c> only, no CLIP-L): conditioned
    /// on bigG alone, its time ids end with an aesthetic score instead of the target size.
    /// </summary>
    public bool IsRefiner { get; private set; }

    /// <summary>model_index.json <c>force_zeros_for_empty_prompt</c> (SDXL; diffusers' default true): an empty negative prompt conditions on zeros.</summary>
    public bool ForceZerosForEmptyPrompt { get; private set; } = true;
    public string? TaesdDecoderPath { get; private set; }

    /// <summary>Contents of <c>scheduler/scheduler_config.json</c>, verbatim (it is reported back with every generation).</summary>
    public string SchedulerConfigJson { get; private set; } = "";

    public SchedulerConfig SchedulerConfig { get; private set; } = SchedulerConfig.Default;

    /// <summary>Pixels; <c>unet/config.json</c> <c>sample_size</c> × 8, 512 when absent.</summary>
    public int NativeWidth { get; private set; }
    public int NativeHeight { get; private set; }

    /// <summary><c>vae_decoder/config.json</c> (or <c>vae_encoder/config.json</c>) <c>scaling_factor</c>; 0.18215 when absent.</summary>
    public float ScalingFactor { get; private set; } = DefaultScalingFactor;

    /// <summary>Coefficients from <c>latent_preview.json</c>; <c>null</c> when the folder ships none.</summary>
    public Previews.LatentRgbFactors? PreviewFactors { get; private set; }

    public bool SupportsImg2Img => VaeEncoderPath is not null;

    /// <summary><c>unet/config.json</c> <c>in_channels</c> (9: an inpainting UNet), or null when the config does not say.</summary>
    public int? UNetInChannels { get; private set; }

    /// <summary>
    /// Cheap check used when listing models: reads only the small JSON files (no ONNX inspection).
    /// Throws <see cref="ModelFolderException"/> when the folder is not a model.
    /// </summary>
    public static ModelFolder Describe(string path)
    {
        var folder = new ModelFolder(System.IO.Path.GetFullPath(path));
        folder.ReadLayout(inspectOnnx: false);
        return folder;
    }

    /// <summary>Full validation before loading sessions: everything in <see cref="Describe"/> plus every ONNX file and its external data.</summary>
    public static ModelFolder Open(string path, string? name = null)
    {
        var folder = new ModelFolder(System.IO.Path.GetFullPath(path), name);
        folder.ReadLayout(inspectOnnx: true);
        return folder;
    }

    private void ReadLayout(bool inspectOnnx)
    {
        if (!Directory.Exists(Path)) throw new ModelFolderException($"Model folder '{Path}' does not exist.");

        var index = RequireJsonObject("model_index.json");
        if (index["force_zeros_for_empty_prompt"] is JsonValue zeros && zeros.TryGetValue<bool>(out var force)) ForceZerosForEmptyPrompt = force;
        IsRefiner = !File.Exists(Combine("text_encoder", "model.onnx")) && File.Exists(Combine("text_encoder_2", "model.onnx"));
        if (!IsRefiner)
        {
            RequireJsonObject("tokenizer", "vocab.json");
            RequireFile("tokenizer", "merges.txt");
            RequireJsonObject("tokenizer", "tokenizer_config.json");
            RequireJsonObject("tokenizer", "special_tokens_map.json");
        }
        SchedulerConfigJson = RequireJsonObject("scheduler", "scheduler_config.json").ToJsonString();
        try
        {
            SchedulerConfig = SchedulerConfig.Parse(SchedulerConfigJson);
        }
        catch (InvalidDataException ex)
        {
            throw new ModelFolderException($"Model '{Name}': scheduler/scheduler_config.json: {ex.Message}", ex);
        }

        if (!IsRefiner) RequireFile("text_encoder", "model.onnx");
        RequireFile("unet", "model.onnx");
        RequireFile("vae_decoder", "model.onnx");
        if (File.Exists(Combine("text_encoder_2", "model.onnx")))
        {
            TextEncoder2Path = RequireFile("text_encoder_2", "model.onnx");
            RequireJsonObject("tokenizer_2", "vocab.json");
            RequireFile("tokenizer_2", "merges.txt");
            RequireJsonObject("tokenizer_2", "tokenizer_config.json");
            RequireJsonObject("tokenizer_2", "special_tokens_map.json");
        }
        else if (index["text_encoder_2"] is JsonArray { Count: > 0 } declared && declared[0] is not null)
        {
            throw new ModelFolderException($"Model '{Name}': model_index.json names a text_encoder_2 (an SDXL model), but text_encoder_2/model.onnx is missing.");
        }
        VaeEncoderPath = File.Exists(Combine("vae_encoder", "model.onnx")) ? Combine("vae_encoder", "model.onnx") : null;
        TaesdDecoderPath = File.Exists(Combine("taesd_decoder", "model.onnx")) ? Combine("taesd_decoder", "model.onnx") : null;

        var sampleSize = DefaultSampleSize;
        if (OptionalJsonObject("unet", "config.json") is { } unetConfig && unetConfig["sample_size"] is { } size)
        {
            sampleSize = ReadSampleSize(size, "unet/config.json");
        }
        NativeWidth = NativeHeight = sampleSize * VaeScale;
        // diffusers' inpainting UNets say in_channels 9 here; exported graphs often leave the input's channel axis symbolic.
        if (OptionalJsonObject("unet", "config.json")?["in_channels"] is JsonValue channels && channels.TryGetValue<int>(out var inChannels))
            UNetInChannels = inChannels;

        var vaeConfig = OptionalJsonObject("vae_decoder", "config.json") ?? OptionalJsonObject("vae_encoder", "config.json");
        if (vaeConfig?["scaling_factor"] is { } factor)
        {
            ScalingFactor = ReadPositiveFloat(factor, "vae_decoder/config.json", "scaling_factor");
        }

        if (OptionalJsonObject("latent_preview.json") is { } preview)
        {
            PreviewFactors = Previews.LatentRgbFactors.FromJson(preview, "latent_preview.json");
        }
        else if (IsSdxl) PreviewFactors = Previews.LatentRgbFactors.StableDiffusionXL;

        if (inspectOnnx)
        {
            if (!IsRefiner) OnnxFileInspector.Inspect(TextEncoderPath, Path);
            if (TextEncoder2Path is not null) OnnxFileInspector.Inspect(TextEncoder2Path, Path);
            OnnxFileInspector.Inspect(UNetPath, Path);
            OnnxFileInspector.Inspect(VaeDecoderPath, Path);
            if (VaeEncoderPath is not null) OnnxFileInspector.Inspect(VaeEncoderPath, Path);
            if (TaesdDecoderPath is not null) OnnxFileInspector.Inspect(TaesdDecoderPath, Path);
        }
    }

    private static int ReadSampleSize(JsonNode node, string file)
    {
        // diffusers writes an int; some exports write [height, width] — use the first.
        var value = node is JsonArray { Count: > 0 } array ? array[0] : node;
        if (value is JsonValue v && v.TryGetValue<int>(out var size) && size is > 0 and <= 1024) return size;
        throw new ModelFolderException($"{file}: 'sample_size' must be a positive integer (latent size), found {node.ToJsonString()}.");
    }

    private static float ReadPositiveFloat(JsonNode node, string file, string key)
    {
        if (node is JsonValue v && v.TryGetValue<double>(out var d) && d > 0 && double.IsFinite(d)) return (float)d;
        throw new ModelFolderException($"{file}: '{key}' must be a positive number, found {node.ToJsonString()}.");
    }

    private string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private string RequireFile(params string[] parts)
    {
        var file = Combine(parts);
        if (!File.Exists(file)) throw new ModelFolderException($"Model '{Name}': {string.Join('/', parts)} is missing.");
        if (new FileInfo(file).Length == 0) throw new ModelFolderException($"Model '{Name}': {string.Join('/', parts)} is empty (0 bytes).");
        return file;
    }

    private JsonObject RequireJsonObject(params string[] parts) => ParseJsonObject(RequireFile(parts), parts);

    private JsonObject? OptionalJsonObject(params string[] parts)
    {
        var file = Combine(parts);
        return File.Exists(file) ? ParseJsonObject(file, parts) : null;
    }

    private JsonObject ParseJsonObject(string file, string[] parts)
    {
        var display = string.Join('/', parts);
        try
        {
            return JsonNode.Parse(File.ReadAllText(file)) as JsonObject
                ?? throw new ModelFolderException($"Model '{Name}': {display} must hold a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new ModelFolderException($"Model '{Name}': {display} is not valid JSON ({ex.Message}).", ex);
        }
    }
}
