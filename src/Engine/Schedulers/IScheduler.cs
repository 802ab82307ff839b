using SdBlazor.Engine.Randomness;

namespace SdBlazor.Engine.Schedulers;

/// <summary>
/// The model callback a sampler loop calls: takes the scaled model input and the (possibly fractional) timestep,
/// writes the UNet output (epsilon or v, per <c>prediction_type</c>) into <c>output</c>.
/// All spans are latents of the same shape, C order.
/// </summary>
public delegate void DenoiseCallback(ReadOnlySpan<float> modelInput, float timestep, Span<float> output);

/// <summary>
/// A diffusers-semantics scheduler built from <c>scheduler_config.json</c> plus the user's sampler choice.
/// One instance per generation (schedulers keep per-run state such as multistep history and the step index).
/// </summary>
/// <remarks>
/// Usage, as diffusers' pipelines do it:
/// <code>
/// scheduler.SetTimesteps(steps);                 // img2img: then SetBeginIndex(ImageToImage.StartIndex(...))
/// latents = noise * InitNoiseSigma;              // img2img: AddNoise(init, noise, Timesteps[begin], latents)
/// foreach t in Timesteps[begin..]:
///     ScaleModelInput(latents, t, x); unet(x, t) → output (after CFG); Step(output, t, latents, generators);
/// </code>
/// The step index advances by one per <see cref="Step"/> call, so <see cref="Timesteps"/> must be walked in order.
/// </remarks>
public interface IScheduler
{
    /// <summary>Timesteps as held after <see cref="SetTimesteps"/> (fractional for linspace spacing; Heun holds 2n−1).</summary>
    IReadOnlyList<float> Timesteps { get; }

    /// <summary>Sigmas (length = timesteps + 1, ending in the final sigma, usually 0) for sigma-based schedulers; empty otherwise.</summary>
    IReadOnlyList<float> Sigmas { get; }

    /// <summary>Multiplier for the initial unit-variance noise.</summary>
    float InitNoiseSigma { get; }

    /// <summary>Model calls per user-visible step (Heun: 2). <see cref="Timesteps"/> already holds every call.</summary>
    int Order { get; }

    /// <summary>The <c>numInferenceSteps</c> of the last <see cref="SetTimesteps"/> call (0 before).</summary>
    int NumInferenceSteps { get; }

    /// <summary>Builds the timestep/sigma schedule for <paramref name="numInferenceSteps"/> user steps and resets per-run state.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 step, or more than the training schedule allows.</exception>
    void SetTimesteps(int numInferenceSteps);

    /// <summary>
    /// Index into <see cref="Timesteps"/> where the loop starts (diffusers' <c>set_begin_index</c>; img2img skips the
    /// first timesteps). Call after <see cref="SetTimesteps"/> and before the first <see cref="ScaleModelInput"/>.
    /// </summary>
    void SetBeginIndex(int beginIndex);

    /// <summary>Scales the latents for the UNet at timestep <paramref name="timestep"/>, into <paramref name="destination"/> (may alias <paramref name="sample"/>).</summary>
    void ScaleModelInput(ReadOnlySpan<float> sample, float timestep, Span<float> destination);

    /// <summary>One scheduler step: updates <paramref name="sample"/> in place from the model output, and advances the step index.</summary>
    /// <param name="noise">
    /// Source of fresh noise for stochastic samplers (Euler a, DPM++ 2M SDE, LCM): one generator per batch item, each
    /// drawing one <c>randn</c> of its item's size per step, like diffusers' <c>randn_tensor</c> with a generator list.
    /// Ignored by deterministic samplers; a stochastic sampler throws when it is null.
    /// </param>
    void Step(ReadOnlySpan<float> modelOutput, float timestep, Span<float> sample, IReadOnlyList<TorchGenerator>? noise);

    /// <summary>Forward diffusion: <c>destination = noised(original, noise, timestep)</c>, used by img2img.</summary>
    /// <remarks>Sigma-based schedulers use the sigma at the begin index (or the first match of <paramref name="timestep"/> when none was set), as diffusers does.</remarks>
    void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, float timestep, Span<float> destination);
}
