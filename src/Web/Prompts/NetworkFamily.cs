namespace SdBlazor.Web.Prompts;

/// <summary>
/// Which base model a LoRA or an embedding was trained for, read from what the file states (kohya's
/// <c>ss_base_model_version</c>, <c>modelspec.architecture</c>) or else from its tensors' shapes: a LoRA of the UNet's
/// cross-attention takes the text encoder's width (768 SD 1.x, 1024 SD 2.x, 2048 SDXL); an embedding is a row of the
/// token table (768 / 1024, SDXL files hold <c>clip_l</c> and <c>clip_g</c>).
/// </summary>
public static class NetworkFamily
{
    public const string Sd1 = "SD 1.x", Sd2 = "SD 2.x", Sdxl = "SDXL", Unknown = "unknown";

    public static string OfLora(IReadOnlyDictionary<string, string> metadata, IReadOnlyDictionary<string, long[]> shapes)
    {
        if (FromMetadata(metadata) is { } stated) return stated;
        // kohya names SDXL's two text encoders te1/te2.
        if (shapes.Keys.Any(k => k.StartsWith("lora_te1_", StringComparison.Ordinal) || k.StartsWith("lora_te2_", StringComparison.Ordinal))) return Sdxl;
        foreach (var (name, shape) in shapes)
        {
            if (shape.Length < 2 || !name.Contains("attn2", StringComparison.Ordinal) || !name.Contains("to_k", StringComparison.Ordinal)) continue;
            if (!name.Contains("lora_down", StringComparison.Ordinal) && !name.Contains("lora_A", StringComparison.Ordinal)) continue;
            if (ByWidth(shape[1]) is { } family) return family;
        }
        return Unknown;
    }

    public static string OfEmbedding(IReadOnlyDictionary<string, long[]> shapes)
    {
        if (shapes.ContainsKey("clip_g")) return Sdxl;
        var tensor = shapes.GetValueOrDefault("emb_params") ?? shapes.Values.FirstOrDefault();
        return tensor is { Length: > 0 } ? ByWidth(tensor[^1]) ?? Unknown : Unknown;
    }

    private static string? ByWidth(long width) => width switch
    {
        768 => Sd1,
        1024 => Sd2,
        2048 or 1280 => Sdxl,
        _ => null,
    };

    private static string? FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        // ss_base_model_version: "sd_v1", "sd_v2", "sdxl_base_v1-0"; modelspec: "stable-diffusion-v1/lora", "stable-diffusion-xl-v1-base/lora".
        var stated = (metadata.GetValueOrDefault("ss_base_model_version") ?? metadata.GetValueOrDefault("modelspec.architecture") ?? "").ToLowerInvariant();
        if (stated.Contains("sdxl", StringComparison.Ordinal) || stated.Contains("-xl-", StringComparison.Ordinal)) return Sdxl;
        if (stated.StartsWith("sd_v1", StringComparison.Ordinal) || stated.StartsWith("stable-diffusion-v1", StringComparison.Ordinal)) return Sd1;
        if (stated.StartsWith("sd_v2", StringComparison.Ordinal) || stated.StartsWith("stable-diffusion-v2", StringComparison.Ordinal)) return Sd2;
        if (stated.Length > 0) return stated.Length > 40 ? stated[..40] : stated;
        return metadata.GetValueOrDefault("ss_v2") is "True" or "true" ? Sd2 : null;
    }
}
