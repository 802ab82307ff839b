using Microsoft.Extensions.Options;
using SdBlazor.Engine;
using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Web.Generation;

/// <summary>
/// Loads (and warms up) the default model in the background once the host has started, so that the first image after a
/// start does not pay for session creation and ONNX Runtime's first-run work (<c>Engine:PreloadDefaultModel</c>,
/// <c>Engine:WarmUpOnLoad</c>). A job submitted meanwhile simply waits for the engine. Failures are logged, not fatal:
/// the same error then reaches the first request that needs the model.
/// </summary>
public sealed class ModelPreloader(IGenerationEngine engine, IOptions<EngineOptions> options, ILogger<ModelPreloader> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.PreloadDefaultModel) return;
        await Task.Yield();
        try
        {
            var timings = await Task.Run(() => engine.PreloadAsync(null, null, stoppingToken), stoppingToken);
            if (timings.Loaded)
                logger.LogInformation("Default model preloaded: sessions {Sessions:F1} s, warm-up {WarmUp:F1} s",
                    timings.SessionCreation.TotalSeconds, timings.WarmUp.TotalSeconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Preloading the default model failed; it loads on the first request instead");
        }
    }
}
