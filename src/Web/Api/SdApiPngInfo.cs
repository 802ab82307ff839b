using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Api.Models;
using SixLabors.ImageSharp;

namespace SdBlazor.Web.Api;

/// <summary><c>POST /sdapi/v1/png-info</c>: the text chunks of an image and its A1111 parameters, parsed the way A1111 does.</summary>
public static class SdApiPngInfo
{
    public static IResult Read(PngInfoRequest body)
    {
        var bytes = Base64Image.Decode(body.Image);
        if (bytes is null) return SdApiResults.Validation("image", "Invalid encoded image: send a base64 PNG (a data:image/png;base64, prefix is allowed).");

        IReadOnlyDictionary<string, string> texts;
        try
        {
            texts = PngTextChunks.Read(new MemoryStream(bytes, writable: false));
        }
        catch (Exception ex) when (ex is ImageFormatException or NotSupportedException or ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            return SdApiResults.Validation("image", $"Invalid encoded image: {ex.Message}");
        }

        var info = texts.GetValueOrDefault(PngTextChunks.ParametersKeyword) ?? "";
        var items = texts.Where(kv => kv.Key != PngTextChunks.ParametersKeyword).ToDictionary(kv => kv.Key, kv => kv.Value);
        return Results.Json(new PngInfoResponse(info, items, info.Length == 0 ? new Dictionary<string, string>() : Parameters(info)));
    }

    /// <summary>A1111's <c>parse_generation_parameters</c> shape: Prompt, Negative prompt, every pair, Size split into Size-1/Size-2, defaults for missing keys.</summary>
    private static Dictionary<string, string> Parameters(string infotext)
    {
        var parsed = Infotext.Parse(infotext);
        var result = new Dictionary<string, string> { ["Prompt"] = parsed.Prompt, ["Negative prompt"] = parsed.NegativePrompt };
        foreach (var (key, value) in parsed.Pairs)
        {
            result[key] = value;
            var size = value.Split('x');
            if (size.Length == 2 && int.TryParse(size[0], out _) && int.TryParse(size[1], out _))
            {
                result[$"{key}-1"] = size[0];
                result[$"{key}-2"] = size[1];
            }
        }
        result.TryAdd("Clip skip", "1");
        result.TryAdd("Schedule type", "Automatic");
        result.TryAdd("RNG", "GPU");
        return result;
    }
}
