using SdBlazor.Shared;
using SdBlazor.Web.Api.Models;

namespace SdBlazor.Web.Api;

/// <summary>
/// Runs the shared <see cref="GenerationRequestValidator"/> and says which A1111 field each problem belongs to, so
/// 422 answers carry a useful <c>loc</c>. The validator only returns messages, so each field is checked on its own
/// in an otherwise default (valid) request; the limits stay defined once, in the shared validator.
/// </summary>
internal static class FieldErrors
{
    private static readonly (string Field, Func<GenerationRequest, GenerationRequest> Probe)[] Fields =
    [
        ("prompt", r => new() { Prompt = r.Prompt }),
        ("negative_prompt", r => new() { NegativePrompt = r.NegativePrompt }),
        ("steps", r => new() { Steps = r.Steps }),
        ("cfg_scale", r => new() { CfgScale = r.CfgScale }),
        ("seed", r => new() { Seed = r.Seed }),
        ("width", r => new() { Width = r.Width }),
        ("height", r => new() { Height = r.Height }),
        ("batch_size", r => new() { BatchSize = r.BatchSize }),
        ("n_iter", r => new() { BatchCount = r.BatchCount }),
        ("sampler_name", r => new() { Sampler = r.Sampler, ScheduleType = r.ScheduleType }),
        ("subseed", r => new() { Subseed = r.Subseed }),
        ("mask_blur", r => new() { MaskBlur = r.MaskBlur }),
        ("inpainting_fill", r => new() { InpaintingFill = r.InpaintingFill }),
        ("initial_noise_multiplier", r => new() { InitialNoiseMultiplier = r.InitialNoiseMultiplier }),
        ("subseed_strength", r => new() { SubseedStrength = r.SubseedStrength }),
        ("seed_resize_from_w", r => new() { SeedResizeFromWidth = r.SeedResizeFromWidth, SeedResizeFromHeight = r.SeedResizeFromHeight }),
        ("hr_scale", r => new() { EnableHr = r.EnableHr, HrScale = r.HrScale, HrResizeX = r.HrResizeX, HrResizeY = r.HrResizeY, Strength = 0.5 }),
        ("hr_second_pass_steps", r => new() { EnableHr = r.EnableHr, HrSecondPassSteps = r.HrSecondPassSteps, Strength = 0.5 }),
        ("hr_upscaler", r => new() { EnableHr = r.EnableHr, HrUpscaler = r.HrUpscaler, Strength = 0.5 }),
        ("hr_sampler_name", r => new() { EnableHr = r.EnableHr, HrSampler = r.HrSampler, Strength = 0.5 }),
        ("refiner_switch_at", r => new() { RefinerCheckpoint = r.RefinerCheckpoint, RefinerSwitchAt = r.RefinerSwitchAt }),
        ("hr_prompt", r => new() { EnableHr = r.EnableHr, HrPrompt = r.HrPrompt, HrNegativePrompt = r.HrNegativePrompt, Strength = 0.5 }),
    ];

    public static IEnumerable<ValidationErrorItem> Of(GenerationRequest request)
    {
        var all = GenerationRequestValidator.Validate(request);
        if (all.Count == 0) yield break;
        var attributed = new HashSet<string>();
        foreach (var (field, probe) in Fields)
        {
            foreach (var message in GenerationRequestValidator.Validate(probe(request)))
            {
                attributed.Add(message);
                yield return new ValidationErrorItem(["body", field], message, "value_error");
            }
        }
        // Init image and strength problems are reported by the mapper itself; anything else lands on the body.
        foreach (var message in all.Where(m => !attributed.Contains(m) && !m.Contains("init image", StringComparison.OrdinalIgnoreCase) && !m.Contains("strength", StringComparison.OrdinalIgnoreCase)))
            yield return new ValidationErrorItem(["body"], message, "value_error");
    }
}
