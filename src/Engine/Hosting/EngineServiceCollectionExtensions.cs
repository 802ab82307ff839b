using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Engine.Hosting;

public static class EngineServiceCollectionExtensions
{
    /// <summary>The engine: options bound from the <c>Engine</c> section (validated at start), model registry, sessions, <see cref="IGenerationEngine"/>.</summary>
    public static IServiceCollection AddSdEngine(this IServiceCollection services)
    {
        services.AddOptions<EngineOptions>().BindConfiguration(EngineOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EngineOptions>, EngineOptionsValidator>());
        services.TryAddSingleton<ModelRegistry>();
        services.TryAddSingleton<SessionFactory>();
        services.TryAddSingleton<Upscaling.UpscalerCatalog>();
        services.TryAddSingleton<Upscaling.IUpscalerCatalog>(sp => sp.GetRequiredService<Upscaling.UpscalerCatalog>());
        services.TryAddSingleton<GenerationEngine>();
        services.TryAddSingleton<IGenerationEngine>(sp => sp.GetRequiredService<GenerationEngine>());
        return services;
    }
}
