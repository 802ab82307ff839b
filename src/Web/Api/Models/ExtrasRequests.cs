using System.Text.Json.Serialization;

namespace SdBlazor.Web.Api.Models;

/// <summary>A1111's <c>ExtrasBaseRequest</c> fields that SdBlazor honours (face restoration fields are accepted and ignored).</summary>
public class ExtrasBaseRequest
{
    /// <summary>0: scale by <see cref="UpscalingResize"/>; 1: to <see cref="UpscalingResizeW"/>×<see cref="UpscalingResizeH"/>.</summary>
    [JsonPropertyName("resize_mode")] public int? ResizeMode { get; set; }

    [JsonPropertyName("upscaling_resize")] public double? UpscalingResize { get; set; }
    [JsonPropertyName("upscaling_resize_w")] public int? UpscalingResizeW { get; set; }
    [JsonPropertyName("upscaling_resize_h")] public int? UpscalingResizeH { get; set; }

    /// <summary>resize_mode 1: cover the box and crop the middle (true, A1111's default) or stretch (false).</summary>
    [JsonPropertyName("upscaling_crop")] public bool? UpscalingCrop { get; set; }

    [JsonPropertyName("upscaler_1")] public string? Upscaler1 { get; set; }
    [JsonPropertyName("upscaler_2")] public string? Upscaler2 { get; set; }
    [JsonPropertyName("extras_upscaler_2_visibility")] public double? Upscaler2Visibility { get; set; }
}

public sealed class ExtrasSingleImageRequest : ExtrasBaseRequest
{
    /// <summary>Base64 PNG, JPEG or WebP (data-URL prefix allowed).</summary>
    [JsonPropertyName("image")] public string? Image { get; set; }
}

public sealed class ExtrasBatchImagesRequest : ExtrasBaseRequest
{
    [JsonPropertyName("imageList")] public List<FileData>? ImageList { get; set; }
}

public sealed class FileData
{
    [JsonPropertyName("data")] public string? Data { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
}

public sealed record ExtrasSingleImageResponse(
    [property: JsonPropertyName("html_info")] string HtmlInfo,
    [property: JsonPropertyName("image")] string Image);

public sealed record ExtrasBatchImagesResponse(
    [property: JsonPropertyName("html_info")] string HtmlInfo,
    [property: JsonPropertyName("images")] List<string> Images);
