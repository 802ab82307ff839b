using System.Text.Json.Serialization;

namespace SdBlazor.Web.Api.Models;

/// <summary>Response of txt2img and img2img: base64 PNGs, the request echoed with defaults filled in, and <c>info</c> as a JSON string.</summary>
public sealed record ImageResponse(
    [property: JsonPropertyName("images")] IReadOnlyList<string> Images,
    [property: JsonPropertyName("parameters")] object Parameters,
    [property: JsonPropertyName("info")] string Info);

public sealed record ProgressResponse(
    [property: JsonPropertyName("progress")] double Progress,
    [property: JsonPropertyName("eta_relative")] double EtaRelative,
    [property: JsonPropertyName("state")] ProgressState State,
    [property: JsonPropertyName("current_image")] string? CurrentImage,
    [property: JsonPropertyName("textinfo")] string? TextInfo);

/// <summary>A1111's <c>shared.state.dict()</c>: one running job (a request), split into <c>job_count</c> batches.</summary>
public sealed record ProgressState(
    [property: JsonPropertyName("skipped")] bool Skipped,
    [property: JsonPropertyName("interrupted")] bool Interrupted,
    [property: JsonPropertyName("stopping_generation")] bool StoppingGeneration,
    [property: JsonPropertyName("job")] string Job,
    [property: JsonPropertyName("job_count")] int JobCount,
    [property: JsonPropertyName("job_timestamp")] string JobTimestamp,
    [property: JsonPropertyName("job_no")] int JobNo,
    [property: JsonPropertyName("sampling_step")] int SamplingStep,
    [property: JsonPropertyName("sampling_steps")] int SamplingSteps,
    [property: JsonPropertyName("queued_jobs")] int QueuedJobs);

public sealed record SdModelItem(
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("hash")] string? Hash,
    [property: JsonPropertyName("sha256")] string? Sha256,
    [property: JsonPropertyName("filename")] string Filename,
    [property: JsonPropertyName("config")] string? Config,
    // Not in A1111: why a file in the models folder cannot be used (a pickle file, a damaged or unknown checkpoint).
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null);

public sealed record SamplerItem(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string> Aliases,
    [property: JsonPropertyName("options")] IReadOnlyDictionary<string, object> Options);

public sealed record SchedulerItem(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string>? Aliases,
    [property: JsonPropertyName("default_rho")] double DefaultRho,
    [property: JsonPropertyName("need_inner_model")] bool NeedInnerModel);

/// <param name="Parameters">A1111's <c>parse_generation_parameters</c> result: prompt, negative prompt and every <c>Key: value</c> pair (strings).</param>
public sealed record PngInfoResponse(
    [property: JsonPropertyName("info")] string Info,
    [property: JsonPropertyName("items")] IReadOnlyDictionary<string, string> Items,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, string> Parameters);

/// <summary>The subset of A1111's settings SdBlazor has (the rest are not listed).</summary>
public sealed record OptionsResponse(
    [property: JsonPropertyName("sd_model_checkpoint")] string? SdModelCheckpoint,
    [property: JsonPropertyName("sd_checkpoint_hash")] string? SdCheckpointHash,
    [property: JsonPropertyName("samples_format")] string SamplesFormat,
    [property: JsonPropertyName("samples_save")] bool SamplesSave,
    [property: JsonPropertyName("CLIP_stop_at_last_layers")] int ClipStopAtLastLayers,
    [property: JsonPropertyName("sd_vae")] string SdVae);

/// <summary>FastAPI's validation error body (status 422).</summary>
public sealed record ValidationErrorResponse([property: JsonPropertyName("detail")] IReadOnlyList<ValidationErrorItem> Detail);

/// <param name="Loc">Where the problem is: <c>["body", "steps"]</c>; items are strings or numbers.</param>
/// <param name="Type">pydantic's error type, e.g. <c>type_error.integer</c>, <c>value_error</c>.</param>
public sealed record ValidationErrorItem(
    [property: JsonPropertyName("loc")] IReadOnlyList<object> Loc,
    [property: JsonPropertyName("msg")] string Msg,
    [property: JsonPropertyName("type")] string Type);

/// <summary>A1111's error body for other failures (its API middleware's shape): <c>detail</c> is what clients show.</summary>
public sealed record ApiErrorResponse(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("body")] string Body,
    [property: JsonPropertyName("errors")] string Errors);
