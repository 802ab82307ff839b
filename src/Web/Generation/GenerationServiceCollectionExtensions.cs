using Microsoft.Extensions.DependencyInjection.Extensions;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Hubs;

namespace SdBlazor.Web.Generation;

public static class GenerationServiceCollectionExtensions
{
    /// <summary>Queue, worker, notifier, previews, default output store and the generation hub (JSON and MessagePack).</summary>
    public static IServiceCollection AddGeneration(this IServiceCollection services)
    {
        services.AddOptions<GenerationOptions>().BindConfiguration(GenerationOptions.Section)
            .Validate(o => o.PreviewEveryNSteps >= 0, "Generation:PreviewEveryNSteps must be 0 (off) or more.")
            .Validate(o => o.MemoryBudgetBytes >= 0 && o.MemberMemoryBudgetBytes >= 0 && o.MemoryBudgetPercent is > 0 and <= 100
                && o.MemberMemoryBudgetPercent is > 0 and <= 100, "Generation:MemoryBudget* must be positive (percentages 1 to 100; 0 bytes: automatic).")
            .Validate(o => o.MinFreeDiskBytes >= 0, "Generation:MinFreeDiskBytes must be 0 or more.")
            .Validate(o => o.DiskRecheckInterval > TimeSpan.Zero, "Generation:DiskRecheckInterval must be positive.")
            .ValidateOnStart();
        services.AddSingleton<QueueDatabase>();
        services.AddSingleton<RunningJobs>();
        services.AddSingleton<PreviewStore>();
        services.AddSingleton<JobNotifier>();
        services.AddSingleton<PromptTokenCounter>();
        services.AddSingleton<MemoryAdmission>();
        services.AddSingleton<LoadedModelCache>();
        services.AddSingleton<InitImageFiles>();
        services.TryAddSingleton<IDiskSpace, DataFolderDiskSpace>();
        services.AddSingleton<SubmissionValidator>();
        services.AddSingleton<GenerationQueue>();
        services.AddHostedService<GenerationWorker>();
        services.AddHostedService<ModelPreloader>();
        if (!services.Any(d => d.ServiceType == typeof(IGenerationOutputStore))) services.AddPngOutputStore();

        services.AddSignalR()
            .AddHubOptions<GenerationHub>(o => o.MaximumReceiveMessageSize = GenerationLimits.MaxInitImageBytes * 2 + 64 * 1024)
            .AddMessagePackProtocol();
        return services;
    }

    public static IEndpointRouteBuilder MapGeneration(this IEndpointRouteBuilder app)
    {
        app.MapHub<GenerationHub>(GenerationHubPaths.Hub);
        app.MapGenerationEndpoints();
        // The plain PNG store serves /api/images/{id} only when it is the registered store (the gallery serves it otherwise).
        if (app.ServiceProvider.GetService<PngOutputStore>() is not null) app.MapPngOutputImages();
        return app;
    }
}
