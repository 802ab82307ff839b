using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;

namespace SdBlazor.Web.Generation;

/// <summary>Server-side check before queueing: the shared limits plus what only the server knows (installed models).</summary>
public sealed class SubmissionValidator(IGenerationEngine engine, Engine.Upscaling.IUpscalerCatalog? upscalers = null)
{
    public IReadOnlyList<string> Validate(GenerationRequest request)
    {
        var errors = GenerationRequestValidator.Validate(request).ToList();
        if (request.Model is { } name)
        {
            var models = engine.ListModels();
            var model = models.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
            if (model is null)
                errors.Add($"Model '{name}' is not installed; available: {string.Join(", ", models.Select(m => m.Name))}.");
            else if (request.InitImage is not null && !model.SupportsImg2Img)
                errors.Add($"Model '{model.Name}' has no VAE encoder, so it cannot start from an init image.");
        }
        if (errors.Count == 0 && request.Mask is { } mask && InpaintMask.Problem(mask, request.InpaintingMaskInvert) is { } maskProblem)
            errors.Add(maskProblem);
        // Only names listed are looked up: loading a broken model file waits for the run, which reports it.
        if (request.EnableHr && upscalers is not null && !ImageToolsLimits.IsLatentUpscaler(request.HrUpscaler)
            && !upscalers.List().Any(u => string.Equals(u.Name, request.HrUpscaler, StringComparison.OrdinalIgnoreCase)))
            errors.Add($"Hires upscaler '{request.HrUpscaler}' is unknown; available: {string.Join(", ", [.. ImageToolsLimits.LatentUpscalers, .. upscalers.List().Select(u => u.Name)])}.");
        return errors;
    }
}
