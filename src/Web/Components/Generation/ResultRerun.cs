using SdBlazor.Shared;

namespace SdBlazor.Web.Components.Generation;

/// <summary>A result strip button: the job to queue again and how its request changes.</summary>
public sealed record ResultRerun(string JobId, Func<GenerationRequest, GenerationRequest>? Change)
{
    /// <summary>
    /// A1111's variation strength for "a bit different": at 0.2 the composition stays and details change; the UI has
    /// the full variation-seed controls for anything else.
    /// </summary>
    public const double VaryStrength = 0.2;

    public static ResultRerun Again(string jobId) => new(jobId, null);

    public static ResultRerun NewSeed(string jobId) => new(jobId, r => r with { Seed = -1, Subseed = -1 });

    /// <summary>One image like the one with <paramref name="seed"/>: its seed, a random variation seed.</summary>
    public static ResultRerun Vary(string jobId, long seed) =>
        new(jobId, r => r with { Seed = seed, Subseed = -1, SubseedStrength = VaryStrength, BatchSize = 1, BatchCount = 1 });
}
