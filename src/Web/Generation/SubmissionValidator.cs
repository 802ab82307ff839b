using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;

namespace SdBlazor.Web.Generation;

/// <summary>
/// Server-side check before queueing: the shared limits plus what only the server knows (installed models, whether
/// the init image really decodes, and whether the job fits the memory budget of whoever submits it).
/// </summary>
public sealed class SubmissionValidator(IGenerationEngine engine, MemoryAdmission admission)
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
}
