namespace SdBlazor.Web.Api.Extras;

/// <summary>An upscaler in A1111's <c>UpscalerItem</c> shape (<c>scale</c> is the model's native factor; null for resamplers).</summary>
public sealed record UpscalerInfo(string Name, string? ModelName, string? ModelPath, string? ModelUrl, double? Scale);

/// <summary>Something that offers upscalers or latent upscale modes (the hires-fix work registers more).</summary>
public interface IUpscalerProvider
{
    IEnumerable<UpscalerInfo> Upscalers();

    /// <summary>Names of latent upscale modes (A1111: "Latent", "Latent (nearest)", …).</summary>
    IEnumerable<string> LatentUpscaleModes();
}

/// <summary>
/// The engine's upscalers (A1111's "None", the built-in resamplers and the ONNX models in models/upscalers) and the
/// latent modes hires fix understands.
/// </summary>
public sealed class EngineUpscalers(SdBlazor.Engine.Upscaling.IUpscalerCatalog catalog) : IUpscalerProvider
{
    public IEnumerable<UpscalerInfo> Upscalers() =>
    [
        new("None", null, null, null, null),
        .. catalog.List().Select(u => new UpscalerInfo(u.Name, u.ModelPath is null ? null : u.Name, null, null, u.Scale)),
    ];

    public IEnumerable<string> LatentUpscaleModes() => SdBlazor.Shared.ImageToolsLimits.LatentUpscalers;
}

/// <summary>Every registered <see cref="IUpscalerProvider"/>, first registration first, names unique.</summary>
public sealed class UpscalerCatalog(IEnumerable<IUpscalerProvider> providers)
{
    public IReadOnlyList<UpscalerInfo> Upscalers() =>
        providers.SelectMany(p => p.Upscalers()).DistinctBy(u => u.Name, StringComparer.OrdinalIgnoreCase).ToList();

    public IReadOnlyList<string> LatentUpscaleModes() =>
        providers.SelectMany(p => p.LatentUpscaleModes()).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
}
