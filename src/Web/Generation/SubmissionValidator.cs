using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;

namespace SdBlazor.Web.Generation;

/// <summary>
/// Server-side check before queueing: the shared limits plus what only the server knows (installed models and
/// upscalers, whether the init image and mask really decode, and whether the job fits the memory budget of whoever submits it).
/// </summary>
public sealed class SubmissionValidator(IGenerationEngine engine, MemoryAdmission admission, Engine.Upscaling.IUpscalerCatalog? upscalers = null)
{
    /// <param name="owner">The owner submits (or resubmits for themself); members have a smaller memory budget.</param>
    public IReadOnlyList<string> Validate(GenerationRequest request, bool owner = true)
    {
        var errors = GenerationRequestValidator.Validate(request).ToList();
        if (request.Model is { } name)
        {
            var models = engine.ListModels();
            var model = models.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
            if (model is null)
                errors.Add($"Model '{name}' is not installed; available: {string.Join(", ", models.Select(m => m.Name))}.");
            else if (model.Error is not null)
                errors.Add(model.Error);
            else if (request.InitImage is not null && !model.SupportsImg2Img)
                errors.Add($"Model '{model.Name}' has no VAE encoder, so it cannot start from an init image.");
        }
        if (RefinerProblem(request) is { } refinerProblem) errors.Add(refinerProblem);
        if (errors.Count > 0) return errors;

        if (request.Mask is { } mask && InpaintMask.Problem(mask, request.InpaintingMaskInvert) is { } maskProblem)
            errors.Add(maskProblem);
        // Only names listed are looked up: loading a broken model file waits for the run, which reports it.
        if (request.EnableHr && upscalers is not null && !ImageToolsLimits.IsLatentUpscaler(request.HrUpscaler)
            && !upscalers.List().Any(u => string.Equals(u.Name, request.HrUpscaler, StringComparison.OrdinalIgnoreCase)))
            errors.Add($"Hires upscaler '{request.HrUpscaler}' is unknown; available: {string.Join(", ", [.. ImageToolsLimits.LatentUpscalers, .. upscalers.List().Select(u => u.Name)])}.");
        if (errors.Count > 0) return errors;

        long initPixels = 0;
        if (request.InitImage is { } init)
        {
            // Decoded here, not only by the worker: a damaged file is refused at submit instead of failing later.
            try
            {
                using var image = RequestValidator.DecodeInitImage(init);
                initPixels = (long)image.Width * image.Height;
            }
            catch (GenerationValidationException ex)
            {
                return [ex.Message];
            }
        }
        try
        {
            admission.Plan(request, owner, initPixels);
        }
        catch (GenerationValidationException ex)
        {
            errors.Add(ex.Message);
        }
        return errors;
    }

    /// <summary>The engine's refiner rules (installed, SDXL with an SDXL base) checked at submit, so the API answers 422, not a failed job.</summary>
    private string? RefinerProblem(GenerationRequest request)
    {
        var name = request.RefinerCheckpoint?.Trim();
        if (string.IsNullOrEmpty(name) || name.Equals("None", StringComparison.OrdinalIgnoreCase)) return null;
        var models = engine.ListModels();
        var refiner = models.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
        if (refiner is null) return $"Unknown refiner '{name}'. Available models: {string.Join(", ", models.Select(m => m.Name))}.";
        if (refiner.Error is not null) return refiner.Error;
        var model = models.FirstOrDefault(m => string.Equals(m.Name, request.Model, StringComparison.OrdinalIgnoreCase));
        if (model is not null && model.Name != refiner.Name && !(model.IsSdxl && refiner.IsSdxl))
            return $"Refiner '{refiner.Name}' cannot refine '{model.Name}': a refiner works on SDXL latents, so both must be SDXL models.";
        return null;
    }
}
