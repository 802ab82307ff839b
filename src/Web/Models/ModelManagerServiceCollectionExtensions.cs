using Microsoft.Extensions.Options;
using SdBlazor.Web.Models.Downloads;

namespace SdBlazor.Web.Models;

public static class ModelManagerServiceCollectionExtensions
{
    /// <summary>Imports (store, validator, runner, worker, Hub client) and the model manager catalog.</summary>
    public static IServiceCollection AddModelManager(this IServiceCollection services)
    {
        services.AddOptions<ModelManagerOptions>().BindConfiguration(ModelManagerOptions.Section)
            .Validate(o => o.ImportParallelism is >= 1 and <= 16, "Models:ImportParallelism must be 1 to 16.")
            .Validate(o => o.MaxRetries >= 0 && o.RetryDelayMilliseconds >= 0 && o.ReadTimeoutSeconds >= 1, "Models: retry settings must not be negative.")
            .Validate(o => Uri.TryCreate(o.ResolveHubEndpoint(), UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp),
                "Models:HuggingFaceEndpoint (or HF_ENDPOINT) must be an http(s) URL.")
            .ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ModelManagerOptions>>().Value);
        services.AddSingleton<ImportStore>();
        services.AddSingleton<ImportRoots>();
        services.AddSingleton<ImportRequestValidator>();
        services.AddSingleton<HubEndpoint>();
        // Redirects by hand (the token must not follow to a storage host); no overall timeout: reads have their own.
        services.AddHttpClient("models", c => c.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None, ConnectTimeout = TimeSpan.FromSeconds(30) });
        services.AddSingleton(sp => new HubRepository(Client(sp), sp.GetRequiredService<HubEndpoint>()));
        services.AddSingleton(sp => new ResumableDownloader(Client(sp), sp.GetRequiredService<HubEndpoint>(), sp.GetRequiredService<ModelManagerOptions>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<ResumableDownloader>()));
        services.AddSingleton<ImportRunner>();
        services.AddSingleton<ImportWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<ImportWorker>());
        services.AddSingleton<ImportService>();
        services.AddSingleton<ModelManagerCatalog>();
        services.AddSignalR();
        services.AddHostedService<ImportProgressBroadcaster>();
        return services;
    }

    public static IEndpointRouteBuilder MapModelManager(this IEndpointRouteBuilder app)
    {
        app.MapHub<ImportProgressHub>(ImportProgressHub.Path);
        return app.MapModelManagerEndpoints();
    }

    private static HttpClient Client(IServiceProvider services) => services.GetRequiredService<IHttpClientFactory>().CreateClient("models");
}
