using System.Globalization;
using System.Net;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Upscaling;
using SdBlazor.Shared;
using SdBlazor.Web.Api.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SdBlazor.Web.Api;

/// <summary>
/// A1111's "Extras" upscaling (<c>/sdapi/v1/extra-single-image</c>, <c>extra-batch-images</c>) and the upscaler list.
/// Upscales run one at a time (a model upscale is seconds to minutes of CPU), outside the generation queue, and stop
/// when the client goes away. Output is bounded by <see cref="MaxOutputPixels"/>.
/// </summary>
public sealed class SdApiExtras(IUpscalerCatalog upscalers)
{
    public const string None = "None";

    /// <summary>Largest result accepted: a 4× of 2048² (what a 4× of 1024² needs, with room).</summary>
    public const long MaxOutputPixels = 8192L * 8192;

    public const int MaxBatchImages = 32;

    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<IResult> SingleAsync(ExtrasSingleImageRequest body, CancellationToken cancellationToken)
    {
        var errors = new List<ValidationErrorItem>();
        var image = DecodeImage(body.Image, ["body", "image"], errors);
        var plan = Plan(body, errors);
        if (errors.Count > 0 || image is null || plan is null) { image?.Dispose(); return SdApiResults.Validation(errors); }
        using (image)
        {
            var result = await RunAsync([image], plan, cancellationToken);
            return result.Error ?? Results.Json(new ExtrasSingleImageResponse(result.Info, result.Images[0]));
        }
    }

    public async Task<IResult> BatchAsync(ExtrasBatchImagesRequest body, CancellationToken cancellationToken)
    {
        var errors = new List<ValidationErrorItem>();
        if (body.ImageList is not { Count: > 0 } list)
            return SdApiResults.Validation([new(["body", "imageList"], "field required: at least one {data, name} image", "value_error.missing")]);
        if (list.Count > MaxBatchImages)
            return SdApiResults.Validation([new(["body", "imageList"], $"At most {MaxBatchImages} images per request (got {list.Count}).", "value_error")]);
        var plan = Plan(body, errors);
        var images = list.Select((f, i) => DecodeImage(f.Data, ["body", "imageList", i, "data"], errors)).ToList();
        try
        {
            if (errors.Count > 0 || plan is null) return SdApiResults.Validation(errors);
            var result = await RunAsync(images!, plan, cancellationToken);
            return result.Error ?? Results.Json(new ExtrasBatchImagesResponse(result.Info, result.Images));
        }
        finally
        {
            foreach (var image in images) image?.Dispose();
        }
    }

    private sealed record UpscalePlan(double? Scale, int Width, int Height, bool Crop, IImageUpscaler? First, IImageUpscaler? Second, double SecondVisibility, string Info);

    private UpscalePlan? Plan(ExtrasBaseRequest body, List<ValidationErrorItem> errors)
    {
        var mode = body.ResizeMode ?? 0;
        if (mode is not (0 or 1)) errors.Add(new(["body", "resize_mode"], $"resize_mode must be 0 (scale) or 1 (to a size) (got {mode}).", "value_error"));
        var scale = body.UpscalingResize ?? 2;
        if (mode == 0 && (double.IsNaN(scale) || scale is < 1 or > 8))
            errors.Add(new(["body", "upscaling_resize"], $"upscaling_resize must be between 1 and 8 (got {scale}).", "value_error"));
        int w = body.UpscalingResizeW ?? 512, h = body.UpscalingResizeH ?? 512;
        if (mode == 1 && (w is < 1 or > 8192 || h is < 1 or > 8192))
            errors.Add(new(["body", "upscaling_resize_w"], $"upscaling_resize_w and _h must be between 1 and 8192 (got {w}x{h}).", "value_error"));
        var first = Find(body.Upscaler1, "upscaler_1", errors);
        var second = Find(body.Upscaler2, "upscaler_2", errors);
        var visibility = body.Upscaler2Visibility ?? 0;
        if (double.IsNaN(visibility) || visibility is < 0 or > 1)
            errors.Add(new(["body", "extras_upscaler_2_visibility"], $"extras_upscaler_2_visibility must be between 0 and 1 (got {visibility}).", "value_error"));
        if (errors.Count > 0) return null;
        var info = mode == 0 ? $"Postprocess upscale by: {scale.ToString(CultureInfo.InvariantCulture)}" : $"Postprocess upscale to: {w}x{h}";
        info += $", Postprocess upscaler: {first?.Name ?? None}";
        if (second is not null && visibility > 0) info += $", Postprocess upscaler 2: {second.Name}";
        return new UpscalePlan(mode == 0 ? scale : null, w, h, body.UpscalingCrop ?? true, first, visibility > 0 ? second : null, visibility, info);
    }

    private IImageUpscaler? Find(string? name, string field, List<ValidationErrorItem> errors)
    {
        if (string.IsNullOrWhiteSpace(name) || string.Equals(name, None, StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var upscaler = upscalers.Find(name);
            if (upscaler is null)
                errors.Add(new(["body", field], $"Upscaler '{name}' not found; available: {string.Join(", ", new[] { None }.Concat(upscalers.List().Select(u => u.Name)))}.", "value_error"));
            return upscaler;
        }
        catch (InvalidDataException ex)
        {
            errors.Add(new(["body", field], ex.Message, "value_error"));
            return null;
        }
    }

    private static Image<Rgb24>? DecodeImage(string? data, object[] loc, List<ValidationErrorItem> errors)
    {
        var bytes = Base64Image.Decode(data);
        if (bytes is null || ImageFormatSniffer.Detect(bytes) is null)
        {
            errors.Add(new(loc, "Invalid encoded image: send a base64 PNG, JPEG or WebP image (a data:image/...;base64, prefix is allowed).", "value_error"));
            return null;
        }
        try
        {
            // The same checks as an init image (chunk caps, pixel cap from the header, no metadata inflated).
            return SafeImage.Decode(bytes, RequestValidator.InitImageLimits);
        }
        catch (ImageFormatException ex)
        {
            errors.Add(new(loc, $"The image could not be read ({ex.Message}).", "value_error"));
            return null;
        }
    }

    private sealed record RunResult(IResult? Error, List<string> Images, string Info);

    private async Task<RunResult> RunAsync(IReadOnlyList<Image<Rgb24>> images, UpscalePlan plan, CancellationToken cancellationToken)
    {
        foreach (var image in images)
        {
            var (w, h) = Target(image, plan);
            if ((long)w * h > MaxOutputPixels)
                return new(SdApiResults.Validation([new(["body"], $"The result would be {w}×{h} ({(long)w * h / 1e6:0.#} megapixels); at most {MaxOutputPixels / 1e6:0.#} are allowed.", "value_error")]), [], "");
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var encoded = await Task.Run(() => images.Select(image => Upscale(image, plan, cancellationToken)).ToList(), cancellationToken);
            return new(null, encoded, $"<p>{WebUtility.HtmlEncode(plan.Info)}</p>");
        }
        finally
        {
            _gate.Release();
        }
    }

    private static (int Width, int Height) Target(Image<Rgb24> image, UpscalePlan plan) =>
        plan.Scale is { } s ? ((int)(image.Width * s), (int)(image.Height * s)) : (plan.Width, plan.Height);

    private static string Upscale(Image<Rgb24> image, UpscalePlan plan, CancellationToken cancellationToken)
    {
        var (w, h) = Target(image, plan);
        // resize_mode 1 with crop: cover the box keeping the aspect, then cut the middle (A1111's upscaling_crop).
        var (uw, uh) = (w, h);
        if (plan.Scale is null && plan.Crop)
        {
            var ratio = Math.Max((double)w / image.Width, (double)h / image.Height);
            (uw, uh) = ((int)Math.Ceiling(image.Width * ratio), (int)Math.Ceiling(image.Height * ratio));
        }
        using var first = Run(plan.First, image, uw, uh, cancellationToken);
        if (plan.Second is { } secondUpscaler)
        {
            using var second = Run(secondUpscaler, image, uw, uh, cancellationToken);
            var alpha = (float)plan.SecondVisibility;
            // PIL Image.blend(first, second, alpha): first·(1 − alpha) + second·alpha.
            Blend(first, second, alpha);
        }
        if (first.Width != w || first.Height != h)
            first.Mutate(x => x.Crop(new Rectangle((first.Width - w) / 2, (first.Height - h) / 2, w, h)));
        using var png = new MemoryStream();
        first.SaveAsPng(png);
        return Convert.ToBase64String(png.ToArray());
    }

    private static void Blend(Image<Rgb24> target, Image<Rgb24> other, float alpha)
    {
        var a = new Rgb24[target.Width * target.Height];
        var b = new Rgb24[a.Length];
        target.CopyPixelDataTo(a);
        other.CopyPixelDataTo(b);
        static byte Mix(byte x, byte y, float t) => (byte)Math.Clamp(MathF.Round(x * (1 - t) + y * t), 0, 255);
        for (var i = 0; i < a.Length; i++) a[i] = new Rgb24(Mix(a[i].R, b[i].R, alpha), Mix(a[i].G, b[i].G, alpha), Mix(a[i].B, b[i].B, alpha));
        target.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++) a.AsSpan(y * rows.Width, rows.Width).CopyTo(rows.GetRowSpan(y));
        });
    }

    private static Image<Rgb24> Run(IImageUpscaler? upscaler, Image<Rgb24> image, int width, int height, CancellationToken cancellationToken) =>
        upscaler is null
            ? image.Clone(x => x.Resize(width, height, KnownResamplers.Lanczos3))
            : upscaler.Upscale(image, width, height, cancellationToken);
}
