using System.Buffers.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using SdBlazor.Engine.Imaging;
using SdBlazor.Shared;

namespace SdBlazor.Web.Gallery;

/// <param name="ParentImageId">Set for img2img from a gallery image: pass it on so the result's lineage points back.</param>
public sealed record GenerationPrefill(GenerationRequest Request, string? ParentImageId);

/// <summary>
/// The contract between the gallery and the Generate page (<c>/</c>): the gallery navigates to
/// <c>/?fromImage={id}</c> ("use these settings"), <c>/?img2img={id}</c> ("img2img from this": settings plus the image
/// as init image) or <c>/?settings={base64url JSON}</c> (settings found in an import that was not added), and the
/// Generate page turns its URL into a request with <see cref="ResolveAsync"/>.
/// </summary>
public sealed class GalleryPrefill(GalleryIndex index, GalleryStore store)
{
    public const string FromImageParameter = "fromImage";
    public const string Img2ImgParameter = "img2img";
    public const string SettingsParameter = "settings";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string UseSettingsLink(string imageId) => $"/?{FromImageParameter}={Uri.EscapeDataString(imageId)}";
    public static string Img2ImgLink(string imageId) => $"/?{Img2ImgParameter}={Uri.EscapeDataString(imageId)}";

    public static string SettingsLink(ImageParameters parameters) =>
        $"/?{SettingsParameter}={Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(ToRequest(parameters), Json))}";

    /// <summary>
    /// The request a Generate page URL asks for, or null when the URL has none of the parameters (or names nothing
    /// usable, or an image <paramref name="scope"/> may not see).
    /// </summary>
    public async Task<GenerationPrefill?> ResolveAsync(Uri uri, SdBlazor.Web.Sharing.AccountScope scope, CancellationToken ct = default)
    {
        var query = QueryHelpers.ParseQuery(uri.Query);
        if (query.TryGetValue(SettingsParameter, out var settings))
        {
            try
            {
                var request = JsonSerializer.Deserialize<GenerationRequest>(Base64Url.DecodeFromChars(settings.ToString()), Json);
                return request is null ? null : new GenerationPrefill(request with { InitImage = null }, null);
            }
            catch (Exception ex) when (ex is FormatException or JsonException)
            {
                return null;
            }
        }

        var img2img = query.TryGetValue(Img2ImgParameter, out var i2i);
        var idText = img2img ? i2i.ToString() : query.TryGetValue(FromImageParameter, out var from) ? from.ToString() : null;
        if (!ImageIds.TryParse(idText, out var id) || index.Get(id, scope) is not { } row) return null;

        var parameters = store.ReadFileMetadata(row)?.Parameters ?? RowParameters(row);
        var result = ToRequest(parameters);
        if (!img2img) return new GenerationPrefill(result, null);

        await using var stream = store.OpenFile(row);
        if (stream is null) return null;
        using var ms = new MemoryStream();
        await stream.CopyToAsync(ms, ct);
        return new GenerationPrefill(result with { InitImage = ms.ToArray(), Strength = parameters.Strength ?? 0.75, EnableHr = false }, row.Key);
    }

    public static GenerationRequest ToRequest(ImageParameters p) => new()
    {
        Prompt = p.Prompt,
        NegativePrompt = p.NegativePrompt,
        Model = string.IsNullOrWhiteSpace(p.Model) ? null : p.Model,
        Sampler = string.IsNullOrWhiteSpace(p.Sampler) ? "Euler" : p.Sampler,
        ScheduleType = string.IsNullOrWhiteSpace(p.ScheduleType) ? "Automatic" : p.ScheduleType,
        Steps = p.Steps > 0 ? p.Steps : 20,
        CfgScale = p.CfgScale > 0 ? p.CfgScale : 7.5,
        Seed = p.Seed,
        Width = p.Width > 0 ? p.Width : null,
        Height = p.Height > 0 ? p.Height : null,
        Strength = p.Strength ?? 0.75,
        ClipSkip = p.ClipSkip is >= GenerationLimits.MinClipSkip and <= GenerationLimits.MaxClipSkip ? p.ClipSkip : 1,
        Emphasis = GenerationLimits.EmphasisModes.Contains(p.Emphasis) ? p.Emphasis : "Original",
        // Variation seed and hires fix, as the image recorded them (A1111's "send to txt2img" restores them too).
        Subseed = p.Subseed ?? -1,
        SubseedStrength = p.SubseedStrength ?? 0,
        SeedResizeFromWidth = p.SeedResizeFromWidth ?? 0,
        SeedResizeFromHeight = p.SeedResizeFromHeight ?? 0,
        EnableHr = p.Hires is not null,
        HrScale = p.Hires?.Scale ?? 2,
        HrResizeX = p.Hires?.ResizeWidth ?? 0,
        HrResizeY = p.Hires?.ResizeHeight ?? 0,
        HrUpscaler = p.Hires?.Upscaler ?? "Latent",
        HrSecondPassSteps = p.Hires?.Steps ?? 0,
        HrSampler = p.Hires?.Sampler,
        HrPrompt = p.Hires?.Prompt,
        HrNegativePrompt = p.Hires?.NegativePrompt,
        MaskBlur = p.MaskBlur ?? 4,
        InpaintingMaskWeight = p.ConditionalMaskWeight ?? 1,
        InpaintFullRes = p.MaskedAreaPadding is not null,
        InpaintFullResPadding = p.MaskedAreaPadding ?? 32,
        InitialNoiseMultiplier = p.NoiseMultiplier ?? 1,
    };

    private static ImageParameters RowParameters(GalleryImage row) => new()
    {
        Prompt = row.Prompt,
        NegativePrompt = row.NegativePrompt,
        Seed = row.Seed,
        Steps = row.Steps,
        CfgScale = row.CfgScale,
        Sampler = row.Sampler,
        ScheduleType = row.ScheduleType,
        Width = row.Width,
        Height = row.Height,
        Model = row.Model,
        Strength = row.Strength,
    };
}
