namespace SdBlazor.Engine.Schedulers;

/// <summary>
/// The shared noise-schedule maths every scheduler uses, written once: betas → alphas_cumprod → sigmas, timestep
/// spacing, Karras sigmas and sigma → timestep interpolation. The precision of each piece follows diffusers: the
/// training schedule is float32 torch tensors (so we compute it in float32, in torch's order of operations), the
/// inference-time spacing and interpolation are float64 numpy.
/// </summary>
internal sealed class NoiseSchedule
{
    private NoiseSchedule(float[] alphasCumprod) => AlphasCumprod = alphasCumprod;

    /// <summary>ᾱ_t for t = 0 … num_train_timesteps − 1 (float32, as torch.cumprod gives them).</summary>
    public float[] AlphasCumprod { get; }

    public int NumTrainTimesteps => AlphasCumprod.Length;

    /// <summary>
    /// Builds the schedule from the config, filling keys the file left out with the scheduler class's defaults
    /// (most diffusers classes default to linear 0.0001…0.02; LCM to scaled_linear 0.00085…0.012).
    /// </summary>
    public static NoiseSchedule Create(SchedulerConfig config, BetaSchedule defaultSchedule, double defaultBetaStart, double defaultBetaEnd)
    {
        var n = config.NumTrainTimesteps;
        float[] betas;
        if (config.TrainedBetas is { } trained)
        {
            betas = trained.Select(b => (float)b).ToArray();
        }
        else
        {
            var start = config.BetaStart ?? defaultBetaStart;
            var end = config.BetaEnd ?? defaultBetaEnd;
            betas = (config.BetaSchedule ?? defaultSchedule) switch
            {
                BetaSchedule.Linear => TorchLinspace((float)start, (float)end, n),
                BetaSchedule.ScaledLinear => TorchLinspace((float)Math.Sqrt(start), (float)Math.Sqrt(end), n).Select(b => b * b).ToArray(),
                BetaSchedule.SquaredCosCapV2 => BetasForAlphaBar(n),
                _ => throw new InvalidDataException($"beta_schedule {config.BetaSchedule} is not supported."),
            };
        }

        var alphasCumprod = new float[n];
        var product = 1f;
        for (var i = 0; i < n; i++)
        {
            product *= 1f - betas[i];
            alphasCumprod[i] = product;
        }
        return new NoiseSchedule(alphasCumprod);
    }

    /// <summary>σ_t = √((1 − ᾱ_t) / ᾱ_t) for every training timestep, ascending in t (float32).</summary>
    public float[] TrainSigmas() => AlphasCumprod.Select(a => MathF.Sqrt((1f - a) / a)).ToArray();

    /// <summary>ln σ_t (float32, as <c>np.log</c> of the float32 sigmas).</summary>
    public static float[] LogSigmas(float[] sigmas) => sigmas.Select(s => (float)Math.Log(s)).ToArray();

    /// <summary>
    /// Timesteps of the sigma-based (k-diffusion style) schedulers — Euler, Euler a, LMS, Heun — in descending order.
    /// linspace is fractional; leading/trailing are whole numbers.
    /// </summary>
    public double[] SigmaSchedulerTimesteps(TimestepSpacing spacing, int steps, int stepsOffset)
    {
        var n = NumTrainTimesteps;
        switch (spacing)
        {
            case TimestepSpacing.Linspace:
                // np.linspace(0, N - 1, steps, dtype=np.float32)[::-1]
                return NumpyLinspace(0, n - 1, steps).Select(t => (double)(float)t).Reverse().ToArray();
            case TimestepSpacing.Leading:
            {
                var ratio = n / steps;
                return Enumerable.Range(0, steps).Reverse().Select(i => (double)(float)(i * ratio + stepsOffset)).ToArray();
            }
            case TimestepSpacing.Trailing:
                return NumpyArangeDown(n, (double)n / steps).Select(t => (double)(float)(Math.Round(t) - 1)).ToArray();
            default:
                throw new ArgumentOutOfRangeException(nameof(spacing), spacing, null);
        }
    }

    /// <summary>Whole-number timesteps of DDIM (and DDPM-family) schedulers, descending.</summary>
    public long[] DdimTimesteps(TimestepSpacing spacing, int steps, int stepsOffset)
    {
        var n = NumTrainTimesteps;
        return spacing switch
        {
            TimestepSpacing.Linspace => NumpyLinspace(0, n - 1, steps).Select(t => (long)Math.Round(t)).Reverse().ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, steps).Reverse().Select(i => (long)i * (n / steps) + stepsOffset).ToArray(),
            TimestepSpacing.Trailing => NumpyArangeDown(n, (double)n / steps).Select(t => (long)Math.Round(t) - 1).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(spacing), spacing, null),
        };
    }

    /// <summary>
    /// DPMSolverMultistep's whole-number timesteps: it spaces steps + 1 points and drops the last, so the schedule
    /// never reaches t = 0 (linspace/leading).
    /// </summary>
    public long[] DpmSolverTimesteps(TimestepSpacing spacing, int steps, int stepsOffset)
    {
        var last = NumTrainTimesteps; // lambda_min_clipped = −inf clips nothing
        return spacing switch
        {
            TimestepSpacing.Linspace => NumpyLinspace(0, last - 1, steps + 1).Select(t => (long)Math.Round(t)).Reverse().Take(steps).ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, steps + 1).Reverse().Take(steps).Select(i => (long)i * (last / (steps + 1)) + stepsOffset).ToArray(),
            TimestepSpacing.Trailing => NumpyArangeDown(last, (double)NumTrainTimesteps / steps).Select(t => (long)Math.Round(t) - 1).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(spacing), spacing, null),
        };
    }

    /// <summary><c>np.interp(t, arange(N), trainSigmas)</c>: σ at (fractional) timesteps, float64.</summary>
    public static double[] InterpolateSigmas(IReadOnlyList<double> timesteps, float[] trainSigmas)
    {
        var result = new double[timesteps.Count];
        var last = trainSigmas.Length - 1;
        for (var i = 0; i < result.Length; i++)
        {
            var x = timesteps[i];
            if (x <= 0) { result[i] = trainSigmas[0]; continue; }
            if (x >= last) { result[i] = trainSigmas[last]; continue; }
            var j = (int)Math.Floor(x);
            if (x == j) { result[i] = trainSigmas[j]; continue; }
            var slope = ((double)trainSigmas[j + 1] - trainSigmas[j]) / 1.0;
            result[i] = slope * (x - j) + trainSigmas[j];
        }
        return result;
    }

    /// <summary>Karras et al. (2022) sigmas, ρ = 7, from σ_max down to σ_min (float64, length <paramref name="steps"/>).</summary>
    public static double[] KarrasSigmas(double sigmaMin, double sigmaMax, int steps)
    {
        const double rho = 7.0;
        var minInvRho = Math.Pow(sigmaMin, 1 / rho);
        var maxInvRho = Math.Pow(sigmaMax, 1 / rho);
        return NumpyLinspace(0, 1, steps).Select(ramp => Math.Pow(maxInvRho + ramp * (minInvRho - maxInvRho), rho)).ToArray();
    }

    /// <summary>diffusers' <c>_sigma_to_t</c>: the fractional timestep whose log-sigma matches, interpolating in log space.</summary>
    public static double SigmaToTimestep(double sigma, float[] logSigmas)
    {
        var logSigma = Math.Log(Math.Max(sigma, 1e-10));
        // low = the last index whose log-sigma ≤ log(sigma) (0 when none), kept below the last so high exists.
        var low = 0;
        for (var i = 0; i < logSigmas.Length; i++)
        {
            if (logSigma - logSigmas[i] >= 0) low = i;
        }
        low = Math.Min(low, logSigmas.Length - 2);
        var high = low + 1;
        double lowValue = logSigmas[low], highValue = logSigmas[high];
        var w = Math.Clamp((lowValue - logSigma) / (lowValue - highValue), 0, 1);
        return (1 - w) * low + w * high;
    }

    /// <summary><c>torch.linspace(start, end, n, dtype=float32)</c> in torch's CPU order (from both ends towards the middle).</summary>
    internal static float[] TorchLinspace(float start, float end, int n)
    {
        var result = new float[n];
        if (n == 1) { result[0] = start; return result; }
        var step = (end - start) / (n - 1);
        var halfway = n / 2;
        for (var i = 0; i < n; i++)
        {
            result[i] = i < halfway ? start + step * i : end - step * (n - i - 1);
        }
        return result;
    }

    /// <summary><c>np.linspace(start, stop, n)</c> in float64 (endpoint exact).</summary>
    internal static double[] NumpyLinspace(double start, double stop, int n)
    {
        var result = new double[n];
        if (n == 1) { result[0] = start; return result; }
        var step = (stop - start) / (n - 1);
        for (var i = 0; i < n; i++) result[i] = i * step + start;
        result[^1] = stop;
        return result;
    }

    /// <summary><c>np.arange(start, 0, -step)</c> in float64.</summary>
    private static IEnumerable<double> NumpyArangeDown(double start, double step)
    {
        var count = (int)Math.Ceiling(start / step);
        for (var i = 0; i < count; i++) yield return start - i * step;
    }

    // Glide's cosine schedule (betas_for_alpha_bar), computed in float64 then stored as float32.
    private static float[] BetasForAlphaBar(int n, double maxBeta = 0.999)
    {
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        var betas = new float[n];
        for (var i = 0; i < n; i++)
        {
            var t1 = (double)i / n;
            var t2 = (double)(i + 1) / n;
            betas[i] = (float)Math.Min(1 - AlphaBar(t2) / AlphaBar(t1), maxBeta);
        }
        return betas;
    }
}
