using System.Text.RegularExpressions;
using System.Text.Json.Nodes;

namespace SdBlazor.Engine.Imaging;

/// <summary>Best-effort readers for InvokeAI (<c>invokeai_metadata</c>), SwarmUI (<c>sui_image_params</c>) and Fooocus JSON.</summary>
internal static partial class OtherToolsMetadata
{
    public static ImageParameters? ReadInvokeAi(string json)
    {
        if (JsonRead.ParseObject(json) is not { } m) return null;
        var (sampler, schedule) = SamplerNames.FromInvokeAi(JsonRead.String(m["scheduler"]));
        var model = m["model"] as JsonObject;
        return new ImageParameters
        {
            Prompt = JsonRead.String(m["positive_prompt"]) ?? "",
            NegativePrompt = JsonRead.String(m["negative_prompt"]) ?? "",
            Seed = JsonRead.Long(m["seed"]) ?? -1,
            Steps = JsonRead.Int(m["steps"]),
            CfgScale = JsonRead.Double(m["cfg_scale"]) ?? 0,
            Sampler = sampler,
            ScheduleType = schedule,
            Width = JsonRead.Int(m["width"]),
            Height = JsonRead.Int(m["height"]),
            Model = JsonRead.String(model?["name"]) ?? JsonRead.String(model?["model_name"]) ?? JsonRead.String(m["model"]),
            ModelHash = JsonRead.String(model?["hash"]),
            Strength = JsonRead.Double(m["strength"]),
            Rng = "CPU",
        };
    }

    /// <summary>SwarmUI stores <c>{"sui_image_params": {...}}</c> as JSON in the <c>parameters</c> chunk.</summary>
    public static ImageParameters? ReadSwarmUi(string json)
    {
        if (JsonRead.ParseObject(json)?["sui_image_params"] is not JsonObject p) return null;
        return new ImageParameters
        {
            Prompt = JsonRead.String(p["prompt"]) ?? "",
            NegativePrompt = JsonRead.String(p["negativeprompt"]) ?? "",
            Seed = JsonRead.Long(p["seed"]) ?? -1,
            Steps = JsonRead.Int(p["steps"]),
            CfgScale = JsonRead.Double(p["cfgscale"]) ?? 0,
            Sampler = SamplerNames.Sampler(JsonRead.String(p["sampler"])),
            ScheduleType = SamplerNames.Schedule(JsonRead.String(p["scheduler"])),
            Width = JsonRead.Int(p["width"]),
            Height = JsonRead.Int(p["height"]),
            Model = JsonRead.String(p["model"]),
            Strength = JsonRead.Double(p["initimagecreativity"]),
            Rng = "CPU",
        };
    }

    // Non-backtracking: the backtracking engine is quadratic on a long run of digits in an uploaded file's JSON.
    private static readonly Regex Resolution = new(@"\(?\s*(\d+)\s*[,x]\s*(\d+)\s*\)?", RegexOptions.NonBacktracking, TimeSpan.FromSeconds(2));

    private static (int Width, int Height) ParseResolution(string text)
    {
        try
        {
            // TryParse: a file may carry digits that overflow an int, and reading metadata never throws.
            var m = Resolution.Match(text);
            return m.Success && int.TryParse(m.Groups[1].ValueSpan, out var w) && int.TryParse(m.Groups[2].ValueSpan, out var h) ? (w, h) : (0, 0);
        }
        catch (RegexMatchTimeoutException)
        {
            return (0, 0);
        }
    }

    /// <summary>Fooocus writes its own JSON into <c>parameters</c> and marks it with <c>fooocus_scheme</c>.</summary>
    public static ImageParameters? ReadFooocus(string json)
    {
        if (JsonRead.ParseObject(json) is not { } p) return null;
        var (width, height) = ParseResolution(JsonRead.String(p["resolution"]) ?? "");
        return new ImageParameters
        {
            Prompt = JsonRead.String(p["prompt"]) ?? "",
            NegativePrompt = JsonRead.String(p["negative_prompt"]) ?? "",
            Seed = JsonRead.Long(p["seed"]) ?? -1,
            Steps = JsonRead.Int(p["steps"]),
            CfgScale = JsonRead.Double(p["guidance_scale"]) ?? 0,
            Sampler = SamplerNames.Sampler(JsonRead.String(p["sampler"])),
            ScheduleType = SamplerNames.Schedule(JsonRead.String(p["scheduler"])),
            Width = width,
            Height = height,
            Model = JsonRead.String(p["base_model"]),
        };
    }
}
