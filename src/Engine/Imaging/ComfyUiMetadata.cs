using System.Text.Json.Nodes;

namespace SdBlazor.Engine.Imaging;

/// <summary>
/// Best-effort reading of ComfyUI's <c>prompt</c> chunk (the API graph: node id → {class_type, inputs}; a link
/// is <c>[node id, output index]</c>): the first KSampler's settings, the texts feeding its positive/negative
/// inputs, the checkpoint behind its model and the latent size.
/// </summary>
internal static class ComfyUiMetadata
{
    private const int MaxLinkDepth = 8;

    public static ImageParameters? Read(string promptJson)
    {
        var graph = JsonRead.ParseObject(promptJson);
        if (graph is null) return null;

        var sampler = graph.Select(kv => kv.Value as JsonObject)
            .FirstOrDefault(n => JsonRead.String(n?["class_type"]) is { } type && type.StartsWith("KSampler", StringComparison.Ordinal));
        if (sampler?["inputs"] is not JsonObject inputs) return null;

        var (width, height) = FindSize(graph, inputs["latent_image"]);
        var ckpt = Follow(graph, inputs["model"], n => JsonRead.String(n["ckpt_name"]) ?? JsonRead.String(n["unet_name"]));
        return new ImageParameters
        {
            Prompt = Follow(graph, inputs["positive"], TextOf) ?? "",
            NegativePrompt = Follow(graph, inputs["negative"], TextOf) ?? "",
            Seed = JsonRead.Long(inputs["seed"]) ?? JsonRead.Long(inputs["noise_seed"]) ?? -1,
            Steps = JsonRead.Int(inputs["steps"]),
            CfgScale = JsonRead.Double(inputs["cfg"]) ?? 0,
            Sampler = SamplerNames.Sampler(JsonRead.String(inputs["sampler_name"])),
            ScheduleType = SamplerNames.Schedule(JsonRead.String(inputs["scheduler"])),
            Width = width,
            Height = height,
            Model = ckpt is null ? null : Path.GetFileNameWithoutExtension(ckpt),
            Strength = JsonRead.Double(inputs["denoise"]) is { } d && d < 1 ? d : null,
            Rng = "CPU",
        };
    }

    private static string? TextOf(JsonObject inputs) =>
        JsonRead.String(inputs["text"]) ?? JsonRead.String(inputs["text_g"]) ?? JsonRead.String(inputs["string"]) ?? JsonRead.String(inputs["value"]);

    private static (int, int) FindSize(JsonObject graph, JsonNode? link)
    {
        var size = Follow(graph, link, n => JsonRead.Long(n["width"]) is { } w && JsonRead.Long(n["height"]) is { } h ? $"{w}x{h}" : null);
        if (size?.Split('x') is [var ws, var hs] && int.TryParse(ws, out var width) && int.TryParse(hs, out var height)) return (width, height);
        return (0, 0);
    }

    /// <summary>Follows a link through pass-through nodes until <paramref name="pick"/> finds a value in some node's inputs.</summary>
    private static string? Follow(JsonObject graph, JsonNode? link, Func<JsonObject, string?> pick)
    {
        for (var depth = 0; depth < MaxLinkDepth; depth++)
        {
            if (link is not JsonArray { Count: >= 1 } array) return null;
            var id = array[0] is JsonValue v ? v.ToString() : null;
            if (id is null || graph[id] is not JsonObject node || node["inputs"] is not JsonObject inputs) return null;
            if (pick(inputs) is { } found) return found;
            // Take the first linked input as the pass-through (conditioning combiners, LoRA loaders, …).
            link = inputs.Select(kv => kv.Value).FirstOrDefault(n => n is JsonArray { Count: 2 });
        }
        return null;
    }
}
