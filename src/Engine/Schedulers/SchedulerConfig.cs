using System.Text.Json;
using System.Text.Json.Serialization;

namespace SdBlazor.Engine.Schedulers;

public enum BetaSchedule { Linear, ScaledLinear, SquaredCosCapV2 }

public enum TimestepSpacing { Linspace, Leading, Trailing }

public enum PredictionType { Epsilon, VPrediction }

/// <summary>diffusers' <c>DPMSolverMultistepScheduler.algorithm_type</c> values we run.</summary>
public enum DpmSolverAlgorithm { DpmSolverPlusPlus, SdeDpmSolverPlusPlus }

/// <summary>
/// A model's <c>scheduler/scheduler_config.json</c> in diffusers' key names. Keys whose default differs between
/// scheduler classes stay null when absent, and each scheduler fills in its class default (as diffusers'
/// <c>from_config</c> does): <c>timestep_spacing</c>, <c>set_alpha_to_one</c>, <c>clip_sample</c>, and the beta
/// range/schedule. <c>_class_name</c> is ignored: the user's sampler picks the class.
/// </summary>
public sealed record SchedulerConfig
{
    public int NumTrainTimesteps { get; init; } = 1000;
    public double? BetaStart { get; init; }
    public double? BetaEnd { get; init; }
    public BetaSchedule? BetaSchedule { get; init; }
    public IReadOnlyList<double>? TrainedBetas { get; init; }
    public int StepsOffset { get; init; }
    public TimestepSpacing? TimestepSpacing { get; init; }
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;
    public bool? SetAlphaToOne { get; init; }
    public bool? ClipSample { get; init; }
    public double ClipSampleRange { get; init; } = 1.0;
    public bool UseKarrasSigmas { get; init; }

    // DPMSolverMultistepScheduler (order 2, final σ = 0: lower_order_final / euler_at_final change nothing there, so they are not read)
    public DpmSolverAlgorithm AlgorithmType { get; init; } = DpmSolverAlgorithm.DpmSolverPlusPlus;

    // LCMScheduler
    public int OriginalInferenceSteps { get; init; } = 50;
    public double TimestepScaling { get; init; } = 10.0;

    /// <summary>diffusers' base-class defaults (what an empty <c>{}</c> config gives).</summary>
    public static SchedulerConfig Default { get; } = new();

    /// <summary>Reads <c>scheduler_config.json</c>.</summary>
    /// <exception cref="InvalidDataException">The file is not valid JSON or holds a value we cannot run; the message names the key.</exception>
    public static SchedulerConfig Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new InvalidDataException($"Cannot read scheduler config '{path}': {e.Message}", e);
        }
        try
        {
            return Parse(json);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <exception cref="InvalidDataException">Not valid JSON, or a value we cannot run; the message names the key.</exception>
    public static SchedulerConfig Parse(string json)
    {
        RawConfig raw;
        try
        {
            raw = JsonSerializer.Deserialize<RawConfig>(json, JsonOptions)
                  ?? throw new InvalidDataException("Scheduler config is empty (expected a JSON object).");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Scheduler config is not valid: {e.Message}", e);
        }

        var config = new SchedulerConfig
        {
            NumTrainTimesteps = raw.NumTrainTimesteps ?? 1000,
            BetaStart = raw.BetaStart,
            BetaEnd = raw.BetaEnd,
            BetaSchedule = raw.BetaSchedule is null ? null : ParseEnum(raw.BetaSchedule, "beta_schedule", BetaScheduleNames),
            TrainedBetas = raw.TrainedBetas,
            StepsOffset = raw.StepsOffset ?? 0,
            TimestepSpacing = raw.TimestepSpacing is null ? null : ParseEnum(raw.TimestepSpacing, "timestep_spacing", SpacingNames),
            PredictionType = raw.PredictionType is null ? PredictionType.Epsilon : ParseEnum(raw.PredictionType, "prediction_type", PredictionNames),
            SetAlphaToOne = raw.SetAlphaToOne,
            ClipSample = raw.ClipSample,
            ClipSampleRange = raw.ClipSampleRange ?? 1.0,
            UseKarrasSigmas = raw.UseKarrasSigmas ?? false,
            AlgorithmType = raw.AlgorithmType is null ? DpmSolverAlgorithm.DpmSolverPlusPlus : ParseEnum(raw.AlgorithmType, "algorithm_type", AlgorithmNames),
            OriginalInferenceSteps = raw.OriginalInferenceSteps ?? 50,
            TimestepScaling = raw.TimestepScaling ?? 10.0,
        };
        config.Validate();
        return config;
    }

    /// <exception cref="InvalidDataException">A value out of range.</exception>
    public void Validate()
    {
        if (NumTrainTimesteps < 2) throw new InvalidDataException($"num_train_timesteps must be at least 2 (got {NumTrainTimesteps}).");
        if (TrainedBetas is { } betas && betas.Count != NumTrainTimesteps)
        {
            throw new InvalidDataException($"trained_betas has {betas.Count} values but num_train_timesteps is {NumTrainTimesteps}.");
        }
        if (TrainedBetas is { } tb && tb.Any(b => b is <= 0 or >= 1 || double.IsNaN(b)))
        {
            throw new InvalidDataException("trained_betas values must all lie strictly between 0 and 1.");
        }
        if (BetaStart is { } s && (s <= 0 || s >= 1)) throw new InvalidDataException($"beta_start must lie strictly between 0 and 1 (got {s}).");
        if (BetaEnd is { } e && (e <= 0 || e >= 1)) throw new InvalidDataException($"beta_end must lie strictly between 0 and 1 (got {e}).");
        if (StepsOffset < 0 || StepsOffset >= NumTrainTimesteps) throw new InvalidDataException($"steps_offset must be between 0 and {NumTrainTimesteps - 1} (got {StepsOffset}).");
        // Only LCM reads it; its upper bound (≤ num_train_timesteps) is checked when LCM builds its schedule, as in diffusers.
        if (OriginalInferenceSteps < 1) throw new InvalidDataException($"original_inference_steps must be at least 1 (got {OriginalInferenceSteps}).");
    }

    private static readonly Dictionary<string, BetaSchedule> BetaScheduleNames = new()
    {
        ["linear"] = Schedulers.BetaSchedule.Linear,
        ["scaled_linear"] = Schedulers.BetaSchedule.ScaledLinear,
        ["squaredcos_cap_v2"] = Schedulers.BetaSchedule.SquaredCosCapV2,
    };

    private static readonly Dictionary<string, TimestepSpacing> SpacingNames = new()
    {
        ["linspace"] = Schedulers.TimestepSpacing.Linspace,
        ["leading"] = Schedulers.TimestepSpacing.Leading,
        ["trailing"] = Schedulers.TimestepSpacing.Trailing,
    };

    private static readonly Dictionary<string, PredictionType> PredictionNames = new()
    {
        ["epsilon"] = PredictionType.Epsilon,
        ["v_prediction"] = PredictionType.VPrediction,
    };

    private static readonly Dictionary<string, DpmSolverAlgorithm> AlgorithmNames = new()
    {
        ["dpmsolver++"] = DpmSolverAlgorithm.DpmSolverPlusPlus,
        ["sde-dpmsolver++"] = DpmSolverAlgorithm.SdeDpmSolverPlusPlus,
    };

    private static T ParseEnum<T>(string value, string key, Dictionary<string, T> names) =>
        names.TryGetValue(value, out var parsed)
            ? parsed
            : throw new InvalidDataException($"{key} '{value}' is not supported; use one of: {string.Join(", ", names.Keys)}.");

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    // The file as written; unknown keys (e.g. _class_name, skip_prk_steps) are ignored like diffusers ignores them for other classes.
    private sealed class RawConfig
    {
        [JsonPropertyName("num_train_timesteps")] public int? NumTrainTimesteps { get; set; }
        [JsonPropertyName("beta_start")] public double? BetaStart { get; set; }
        [JsonPropertyName("beta_end")] public double? BetaEnd { get; set; }
        [JsonPropertyName("beta_schedule")] public string? BetaSchedule { get; set; }
        [JsonPropertyName("trained_betas")] public List<double>? TrainedBetas { get; set; }
        [JsonPropertyName("steps_offset")] public int? StepsOffset { get; set; }
        [JsonPropertyName("timestep_spacing")] public string? TimestepSpacing { get; set; }
        [JsonPropertyName("prediction_type")] public string? PredictionType { get; set; }
        [JsonPropertyName("set_alpha_to_one")] public bool? SetAlphaToOne { get; set; }
        [JsonPropertyName("clip_sample")] public bool? ClipSample { get; set; }
        [JsonPropertyName("clip_sample_range")] public double? ClipSampleRange { get; set; }
        [JsonPropertyName("use_karras_sigmas")] public bool? UseKarrasSigmas { get; set; }
        [JsonPropertyName("algorithm_type")] public string? AlgorithmType { get; set; }
        [JsonPropertyName("original_inference_steps")] public int? OriginalInferenceSteps { get; set; }
        [JsonPropertyName("timestep_scaling")] public double? TimestepScaling { get; set; }
    }
}
