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

/// <summary>The resamplers every install has: A1111's built-in "None", "Lanczos" and "Nearest" upscalers.</summary>
public sealed class BuiltInUpscalers : IUpscalerProvider
{
    public IEnumerable<UpscalerInfo> Upscalers() =>
    [
        new("None", null, null, null, 4),
        new("Lanczos", null, null, null, 4),
        new("Nearest", null, null, null, 4),
    ];

    public IEnumerable<string> LatentUpscaleModes() => [];
}

/// <summary>Every registered <see cref="IUpscalerProvider"/>, first registration first, names unique.</summary>
public sealed class UpscalerCatalog(IEnumerable<IUpscalerProvider> providers)
{
    public IReadOnlyList<UpscalerInfo> Upscalers() =>
        providers.SelectMany(p => p.Upscalers()).DistinctBy(u => u.Name, StringComparer.OrdinalIgnoreCase).ToList();

    public IReadOnlyList<string> LatentUpscaleModes() =>
        providers.SelectMany(p => p.LatentUpscaleModes()).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
}
