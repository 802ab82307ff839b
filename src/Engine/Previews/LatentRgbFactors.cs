using System.Text.Json.Nodes;
using SdBlazor.Engine.Models;

namespace SdBlazor.Engine.Previews;

/// <summary>
/// Linear latent → RGB projection: <c>rgb = Σ_c latent[c] · Factors[c] + Bias</c>, output roughly in [-1, 1].
/// </summary>
/// <param name="Factors">One [r, g, b] row per latent channel.</param>
public sealed record LatentRgbFactors(float[][] Factors, float[] Bias)
{
    /// <summary>SD 1.x / 2.x coefficients as used by ComfyUI (<c>comfy/latent_formats.py</c>).</summary>
    public static LatentRgbFactors StableDiffusion1 { get; } = new(
        [
            [0.3512f, 0.2297f, 0.3227f],
            [0.3250f, 0.4974f, 0.2350f],
            [-0.2829f, 0.1762f, 0.2721f],
            [-0.2120f, -0.2616f, -0.7177f],
        ],
        [0f, 0f, 0f]);

    /// <summary>SDXL coefficients and bias as used by ComfyUI (<c>comfy/latent_formats.py</c>, class SDXL): its VAE's latents differ from SD 1.x's.</summary>
    public static LatentRgbFactors StableDiffusionXL { get; } = new(
        [
            [0.3651f, 0.4232f, 0.4341f],
            [-0.2533f, -0.0042f, 0.1068f],
            [0.1076f, 0.1111f, -0.0362f],
            [-0.3165f, -0.2492f, -0.2188f],
        ],
        [0.1084f, -0.0175f, -0.0011f]);

    public int Channels => Factors.Length;

    /// <summary>Reads <c>{"latent_rgb_factors": [[r,g,b] × channels], "latent_rgb_bias": [r,g,b]}</c> (bias optional).</summary>
    public static LatentRgbFactors FromJson(JsonObject json, string file)
    {
        if (json["latent_rgb_factors"] is not JsonArray { Count: > 0 } rows)
            throw new ModelFolderException($"{file}: 'latent_rgb_factors' must be an array of [r, g, b] rows, one per latent channel.");
        var factors = rows.Select((row, i) => ReadTriple(row, file, $"latent_rgb_factors[{i}]")).ToArray();
        var bias = json["latent_rgb_bias"] is { } b ? ReadTriple(b, file, "latent_rgb_bias") : [0f, 0f, 0f];
        return new LatentRgbFactors(factors, bias);
    }

    private static float[] ReadTriple(JsonNode? node, string file, string what)
    {
        if (node is JsonArray { Count: 3 } array && array.All(v => v is JsonValue value && value.TryGetValue<double>(out _)))
            return array.Select(v => (float)v!.GetValue<double>()).ToArray();
        throw new ModelFolderException($"{file}: '{what}' must be three numbers [r, g, b], found {node?.ToJsonString() ?? "nothing"}.");
    }
}
