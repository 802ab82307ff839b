using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;

namespace SdBlazor.Engine.Schedulers;

/// <summary>A sampler choice in canonical A1111 spelling (one of <see cref="GenerationLimits.Samplers"/> / <see cref="GenerationLimits.ScheduleTypes"/>).</summary>
public readonly record struct SamplerChoice(string Sampler, string ScheduleType);

/// <summary>
/// Maps A1111 sampler names and schedule types to configured diffusers schedulers (the mapping of diffusers'
/// scheduler overview): Euler → EulerDiscrete, Euler a → EulerAncestralDiscrete, DDIM → DDIM (η 0),
/// LMS → LMSDiscrete, Heun → HeunDiscrete, DPM++ 2M → DPMSolverMultistep (dpmsolver++),
/// DPM++ 2M SDE → DPMSolverMultistep (sde-dpmsolver++), LCM → LCM.
/// Schedule type "Automatic" keeps the model config's <c>use_karras_sigmas</c>; "Karras" turns it on.
/// </summary>
public static class SchedulerFactory
{
    private const string Automatic = "Automatic";
    private const string Karras = "Karras";

    /// <summary>Normalises names case-insensitively and splits old combined spellings such as "DPM++ 2M Karras".</summary>
    /// <exception cref="GenerationValidationException">Unknown sampler or schedule type, or a schedule the sampler cannot use; the message lists the valid names.</exception>
    public static SamplerChoice Resolve(string sampler, string? scheduleType)
    {
        var name = (sampler ?? "").Trim();
        var schedule = string.IsNullOrWhiteSpace(scheduleType) ? Automatic : scheduleType.Trim();

        var canonicalSchedule = GenerationLimits.ScheduleTypes.FirstOrDefault(s => s.Equals(schedule, StringComparison.OrdinalIgnoreCase))
            ?? throw new GenerationValidationException(
                $"Unknown schedule type '{scheduleType}'. Valid schedule types: {string.Join(", ", GenerationLimits.ScheduleTypes)}.");

        var canonicalSampler = FindSampler(name);
        if (canonicalSampler is null && name.EndsWith(" " + Karras, StringComparison.OrdinalIgnoreCase))
        {
            canonicalSampler = FindSampler(name[..^(Karras.Length + 1)].TrimEnd());
            if (canonicalSampler is not null) canonicalSchedule = Karras;
        }
        if (canonicalSampler is null)
        {
            throw new GenerationValidationException(
                $"Unknown sampler '{sampler}'. Valid samplers: {string.Join(", ", GenerationLimits.Samplers)} (a \" Karras\" suffix selects the Karras schedule).");
        }
        if (canonicalSchedule == Karras && canonicalSampler is "DDIM" or "LCM")
        {
            throw new GenerationValidationException(
                $"Sampler '{canonicalSampler}' has no sigma schedule, so it cannot use the Karras schedule; choose schedule type {Automatic}.");
        }
        return new SamplerChoice(canonicalSampler, canonicalSchedule);
    }

    /// <summary>A fresh scheduler (one per generation) for the sampler choice over the model's scheduler config.</summary>
    /// <exception cref="GenerationValidationException">See <see cref="Resolve"/>.</exception>
    public static SchedulerBase Create(string sampler, string? scheduleType, SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var choice = Resolve(sampler, scheduleType);
        var configured = choice.ScheduleType == Karras ? config with { UseKarrasSigmas = true } : config;
        return choice.Sampler switch
        {
            "Euler" => new EulerDiscreteScheduler(configured),
            "Euler a" => new EulerAncestralDiscreteScheduler(configured),
            "DDIM" => new DdimScheduler(configured),
            "LMS" => new LmsDiscreteScheduler(configured),
            "Heun" => new HeunDiscreteScheduler(configured),
            "DPM++ 2M" => new DpmSolverMultistepScheduler(configured with { AlgorithmType = DpmSolverAlgorithm.DpmSolverPlusPlus }),
            "DPM++ 2M SDE" => new DpmSolverMultistepScheduler(configured with { AlgorithmType = DpmSolverAlgorithm.SdeDpmSolverPlusPlus }),
            "LCM" => new LcmScheduler(configured),
            _ => throw new GenerationValidationException($"Sampler '{choice.Sampler}' has no scheduler."),
        };
    }

    /// <summary>Whether the sampler draws fresh noise in every step (its images then depend on the per-image generators).</summary>
    public static bool IsStochastic(string sampler) => Resolve(sampler, null).Sampler is "Euler a" or "DPM++ 2M SDE" or "LCM";

    private static string? FindSampler(string name) =>
        GenerationLimits.Samplers.FirstOrDefault(s => s.Equals(name, StringComparison.OrdinalIgnoreCase));
}
