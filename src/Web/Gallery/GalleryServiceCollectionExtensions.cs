using Microsoft.Extensions.DependencyInjection.Extensions;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Gallery;

public static class GalleryServiceCollectionExtensions
{
    /// <summary>Needs <see cref="StorageServiceCollectionExtensions.AddDataFolder"/>.</summary>
    public static IServiceCollection AddGallery(this IServiceCollection services)
    {
        services.AddOptions<GalleryOptions>().BindConfiguration(GalleryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new GalleryDatabase(
            sp.GetRequiredService<DataFolder>().File(GalleryDatabase.FileName),
            sp.GetRequiredService<ILogger<GalleryDatabase>>()));
        services.AddSingleton<GalleryIndex>();
        services.AddSingleton<GalleryFiles>();
        services.AddSingleton<Thumbnails>();
        services.AddSingleton<UploadValidator>();
        services.AddSingleton<GalleryStore>();
        // The worker's output seam: finished images go into the gallery (AddGeneration keeps this registration).
        services.AddSingleton<Generation.IGenerationOutputStore, GalleryOutputStore>();
        services.AddSingleton<GalleryMaintenance>();
        services.AddSingleton<GalleryPrefill>();
        services.AddSingleton<GalleryUpscaler>();
        services.AddHostedService<GalleryStartup>();
        return services;
    }
}
