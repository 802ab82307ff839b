using Microsoft.Extensions.DependencyInjection.Extensions;
using SdBlazor.Web.Generation;

namespace SdBlazor.Web.Api;

public static class SdApiServiceCollectionExtensions
{
    /// <summary>
    /// The A1111-compatible API and the OpenAPI document. Call after <c>AddGeneration</c> (and after any gallery output
    /// store registration): it wraps the registered <see cref="IGenerationOutputStore"/> to hand API jobs' images back.
    /// </summary>
    public static IServiceCollection AddSdApi(this IServiceCollection services)
    {
        services.AddOptions<SdApiOptions>().BindConfiguration(SdApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SdApiSettingsStore>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<SdApiBodyReader>();
        services.AddSingleton<SdApiRequestMapper>();
        services.AddSingleton<ApiJobTickets>();
        services.AddSingleton<SdApiGenerator>();
        services.AddSingleton<SdApiProgress>();
        services.AddSingleton<Extras.LoraCatalog>();
        services.AddSingleton<Extras.EmbeddingCatalog>();
        services.AddSingleton<Extras.PromptStyleStore>();
        services.AddSingleton<Extras.IUpscalerProvider, Extras.BuiltInUpscalers>();
        services.AddSingleton<Extras.UpscalerCatalog>();
        services.TryAddSingleton(TimeProvider.System);
        DecorateOutputStore(services);
        services.AddApiDocumentation();
        return services;
    }

    private static void DecorateOutputStore(IServiceCollection services)
    {
        var existing = services.LastOrDefault(d => d.ServiceType == typeof(IGenerationOutputStore))
            ?? throw new InvalidOperationException("AddSdApi needs an IGenerationOutputStore: call AddGeneration() before AddSdApi().");
        services.Remove(existing);
        services.AddSingleton<IGenerationOutputStore>(sp => new SdApiOutputCapture(Resolve(sp, existing), sp.GetRequiredService<ApiJobTickets>()));
    }

    private static IGenerationOutputStore Resolve(IServiceProvider sp, ServiceDescriptor descriptor) => (IGenerationOutputStore)(
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(sp)
        ?? ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!));
}
