namespace SdBlazor.Engine.Schedulers;

/// <summary>
/// The k-diffusion style schedulers (Euler, Euler a, LMS, Heun): latents live at noise level σ, the model input is
/// scaled by 1/√(σ²+1), and img2img noise is <c>x + σ·ε</c>. Their default spacing is linspace (fractional timesteps).
/// </summary>
public abstract class SigmaSchedulerBase : SchedulerBase
{
    private protected SigmaSchedulerBase(SchedulerConfig config) : base(config)
    {
    }

    private protected TimestepSpacing Spacing => Config.TimestepSpacing ?? TimestepSpacing.Linspace;

    public override float InitNoiseSigma
    {
        get
        {
            var max = SigmasArray.Length == 0 ? 0f : SigmasArray.Max();
            // diffusers: leading spacing starts below σ_max's timestep, so it adds the unit variance back.
            return Spacing is TimestepSpacing.Linspace or TimestepSpacing.Trailing ? max : MathF.Sqrt(max * max + 1f);
        }
    }

    /// <summary>The plain sigma schedule (Euler, Euler a, LMS): timesteps and sigmas as <see cref="BuildSigmaSchedule"/> gives them.</summary>
    private protected override void BuildSchedule(int numInferenceSteps)
    {
        var (timesteps, sigmas) = BuildSigmaSchedule(numInferenceSteps);
        TimestepsArray = ToFloat(timesteps);
        SigmasArray = ToFloat(sigmas);
    }

    /// <summary>
    /// Timesteps and sigmas (ending in 0) per diffusers' set_timesteps for these classes: σ interpolated at the spaced
    /// timesteps, or — with <c>use_karras_sigmas</c> — Karras sigmas between the interpolated ends, with timesteps
    /// mapped back from σ (fractional).
    /// </summary>
    private protected (double[] Timesteps, double[] Sigmas) BuildSigmaSchedule(int numInferenceSteps)
    {
        var timesteps = Schedule.SigmaSchedulerTimesteps(Spacing, numInferenceSteps, Config.StepsOffset);
        var trainSigmas = Schedule.TrainSigmas();
        var sigmas = NoiseSchedule.InterpolateSigmas(timesteps, trainSigmas);
        if (Config.UseKarrasSigmas)
        {
            var logSigmas = NoiseSchedule.LogSigmas(trainSigmas);
            sigmas = NoiseSchedule.KarrasSigmas(sigmas[^1], sigmas[0], numInferenceSteps);
            timesteps = sigmas.Select(s => NoiseSchedule.SigmaToTimestep(s, logSigmas)).ToArray();
        }
        return (timesteps, [.. sigmas, 0.0]);
    }

    private protected override void ScaleModelInputCore(ReadOnlySpan<float> sample, int stepIndex, Span<float> destination)
    {
        var sigma = SigmasArray[stepIndex];
        var scale = MathF.Sqrt(sigma * sigma + 1f);
        for (var i = 0; i < sample.Length; i++) destination[i] = sample[i] / scale;
    }

    private protected override void AddNoiseCore(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, float timestep, Span<float> destination)
    {
        var sigma = SigmasArray[AddNoiseIndex(timestep)];
        for (var i = 0; i < original.Length; i++) destination[i] = original[i] + noise[i] * sigma;
    }

    /// <summary>x0 from the model output at noise level σ (σ̂ for epsilon, as diffusers' Euler uses it).</summary>
    private protected void PredictOriginal(ReadOnlySpan<float> modelOutput, ReadOnlySpan<float> sample, float sigma, Span<float> x0)
    {
        if (Config.PredictionType == PredictionType.Epsilon)
        {
            for (var i = 0; i < x0.Length; i++) x0[i] = sample[i] - sigma * modelOutput[i];
        }
        else
        {
            var sigmaSquaredPlusOne = sigma * sigma + 1f;
            var cOut = -sigma / MathF.Sqrt(sigmaSquaredPlusOne);
            for (var i = 0; i < x0.Length; i++) x0[i] = modelOutput[i] * cOut + sample[i] / sigmaSquaredPlusOne;
        }
    }

    private protected static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();
}
