namespace SdBlazor.Engine.Schedulers;

/// <summary>
/// The model callback a sampler calls: takes the scaled model input and the (possibly fractional) timestep,
/// writes the UNet output (epsilon or v, per <c>prediction_type</c>) into <c>output</c>.
/// All spans are latents of the same shape, C order.
/// </summary>
public delegate void DenoiseCallback(ReadOnlySpan<float> modelInput, float timestep, Span<float> output);

/// <summary>
/// A diffusers-semantics scheduler built from <c>scheduler_config.json</c> plus the user's sampler choice.
/// One instance per generation (schedulers keep per-run state such as multistep history).
/// </summary>
public interface IScheduler
{
    /// <summary>Timesteps as held after <see cref="SetTimesteps"/> (fractional for linspace spacing; Heun holds 2n−1).</summary>
    IReadOnlyList<float> Timesteps { get; }

    /// <summary>Sigmas (length = timesteps + 1, ending in 0) for sigma-based schedulers; empty otherwise.</summary>
    IReadOnlyList<float> Sigmas { get; }

    /// <summary>Multiplier for the initial unit-variance noise.</summary>
    float InitNoiseSigma { get; }

    /// <summary>Model calls per user-visible step (Heun: 2).</summary>
    int Order { get; }

    void SetTimesteps(int numInferenceSteps);

    /// <summary>Scales the latents for the UNet at timestep <paramref name="timestep"/>, into <paramref name="destination"/>.</summary>
    void ScaleModelInput(ReadOnlySpan<float> sample, float timestep, Span<float> destination);

    /// <summary>One scheduler step: updates <paramref name="sample"/> in place from the model output.</summary>
    /// <param name="noise">Source of fresh noise for stochastic samplers (Euler a, DPM++ 2M SDE); ignored by others.</param>
    void Step(ReadOnlySpan<float> modelOutput, float timestep, Span<float> sample, Randomness.TorchGenerator? noise);

    /// <summary>Forward diffusion: <c>destination = noised(original, noise, timestep)</c>, used by img2img.</summary>
    void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, float timestep, Span<float> destination);
}
