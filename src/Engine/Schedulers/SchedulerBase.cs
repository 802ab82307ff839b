using SdBlazor.Engine.Randomness;

namespace SdBlazor.Engine.Schedulers;

/// <summary>
/// What every scheduler shares: the held schedule, the step index (diffusers' <c>_step_index</c> /
/// <c>_begin_index</c>), argument checks and noise drawing. The maths of each sampler lives in its own class.
/// Latent arithmetic is float32 in diffusers' order of operations so results match its goldens.
/// </summary>
public abstract class SchedulerBase : IScheduler
{
    private int? _stepIndex;
    private int? _beginIndex;

    private protected SchedulerBase(SchedulerConfig config, BetaSchedule defaultSchedule = BetaSchedule.Linear,
        double defaultBetaStart = 0.0001, double defaultBetaEnd = 0.02)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Schedule = NoiseSchedule.Create(config, defaultSchedule, defaultBetaStart, defaultBetaEnd);
    }

    public SchedulerConfig Config { get; }

    private protected NoiseSchedule Schedule { get; }

    /// <summary>ᾱ_t of the training schedule (float32), for tests and previews.</summary>
    public IReadOnlyList<float> AlphasCumprod => Schedule.AlphasCumprod;

    public IReadOnlyList<float> Timesteps => TimestepsArray;

    public IReadOnlyList<float> Sigmas => SigmasArray;

    public abstract float InitNoiseSigma { get; }

    public virtual int Order => 1;

    public int NumInferenceSteps { get; private set; }

    private protected float[] TimestepsArray { get; set; } = [];

    private protected float[] SigmasArray { get; set; } = [];

    /// <summary>The index of the next <see cref="Step"/> (null until the first scale/step call of a run).</summary>
    public int? StepIndex => _stepIndex;

    public void SetTimesteps(int numInferenceSteps)
    {
        if (numInferenceSteps < 1 || numInferenceSteps > Config.NumTrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"Steps must be between 1 and {Config.NumTrainTimesteps} (the model's training timesteps).");
        }
        NumInferenceSteps = numInferenceSteps;
        _stepIndex = null;
        _beginIndex = null;
        BuildSchedule(numInferenceSteps);
    }

    public void SetBeginIndex(int beginIndex)
    {
        if (beginIndex < 0 || beginIndex > TimestepsArray.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(beginIndex), beginIndex, $"Begin index must be between 0 and {TimestepsArray.Length}.");
        }
        _beginIndex = beginIndex;
    }

    public void ScaleModelInput(ReadOnlySpan<float> sample, float timestep, Span<float> destination)
    {
        CheckSameLength(sample.Length, destination.Length, nameof(destination));
        EnsureReady();
        ScaleModelInputCore(sample, CurrentStepIndex(timestep), destination);
    }

    public void Step(ReadOnlySpan<float> modelOutput, float timestep, Span<float> sample, IReadOnlyList<TorchGenerator>? noise)
    {
        CheckSameLength(sample.Length, modelOutput.Length, nameof(modelOutput));
        EnsureReady();
        var index = CurrentStepIndex(timestep);
        if (index >= TimestepsArray.Length)
        {
            throw new InvalidOperationException($"All {TimestepsArray.Length} timesteps have been stepped; call SetTimesteps to start a new run.");
        }
        StepCore(modelOutput, index, timestep, sample, noise);
        _stepIndex = index + 1;
    }

    public void AddNoise(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, float timestep, Span<float> destination)
    {
        CheckSameLength(original.Length, noise.Length, nameof(noise));
        CheckSameLength(original.Length, destination.Length, nameof(destination));
        EnsureReady();
        AddNoiseCore(original, noise, timestep, destination);
    }

    private protected abstract void BuildSchedule(int numInferenceSteps);

    private protected virtual void ScaleModelInputCore(ReadOnlySpan<float> sample, int stepIndex, Span<float> destination) =>
        sample.CopyTo(destination);

    private protected abstract void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, float timestep, Span<float> sample,
        IReadOnlyList<TorchGenerator>? noise);

    private protected abstract void AddNoiseCore(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, float timestep, Span<float> destination);

    /// <summary>
    /// The schedule index <see cref="AddNoise"/> uses: the current step once stepping started, else the begin index,
    /// else the first match of <paramref name="timestep"/> (diffusers' add_noise for sigma schedulers).
    /// </summary>
    private protected int AddNoiseIndex(float timestep) => _stepIndex ?? _beginIndex ?? IndexForTimestep(timestep);

    /// <summary>diffusers' <c>index_for_timestep</c>: the second match when the timestep repeats (Heun), else the first.</summary>
    private protected int IndexForTimestep(float timestep)
    {
        var first = -1;
        for (var i = 0; i < TimestepsArray.Length; i++)
        {
            if (TimestepsArray[i] != timestep) continue;
            if (first >= 0) return i;
            first = i;
        }
        return first >= 0
            ? first
            : throw new ArgumentException($"Timestep {timestep} is not in this scheduler's schedule; pass values from Timesteps.", nameof(timestep));
    }

    /// <summary>Fresh unit noise for one step, drawn like diffusers' <c>randn_tensor(shape, generator=...)</c>.</summary>
    private protected float[] DrawNoise(IReadOnlyList<TorchGenerator>? generators, int length)
    {
        if (generators is null || generators.Count == 0)
        {
            throw new ArgumentException($"{GetType().Name} is stochastic: pass the per-image noise generators to Step.", nameof(generators));
        }
        var noise = new float[length];
        TorchGenerator.FillNormal(generators, noise);
        return noise;
    }

    /// <summary>x0 clamp used by DDIM, Heun and LCM when <c>clip_sample</c> is on.</summary>
    private protected static void ClampInPlace(Span<float> values, double range)
    {
        var r = (float)range;
        for (var i = 0; i < values.Length; i++) values[i] = Math.Clamp(values[i], -r, r);
    }

    private int CurrentStepIndex(float timestep)
    {
        _stepIndex ??= _beginIndex ?? IndexForTimestep(timestep);
        return _stepIndex.Value;
    }

    private void EnsureReady()
    {
        if (NumInferenceSteps == 0) throw new InvalidOperationException("Call SetTimesteps before using the scheduler.");
    }

    private static void CheckSameLength(int expected, int actual, string name)
    {
        if (expected != actual) throw new ArgumentException($"Expected {expected} values (the latents' size), got {actual}.", name);
    }
}
