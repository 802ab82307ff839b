using System.Text.Json;
using System.Text.Json.Serialization;

namespace SdBlazor.Web.Api.Models;

// A1111 modules/api/models.py shapes for the lists clients read at start-up.

public sealed record LoraResponseItem(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("alias")] string Alias,
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("metadata")] IReadOnlyDictionary<string, object?> Metadata);

public sealed record EmbeddingItem(
    [property: JsonPropertyName("step")] int? Step,
    [property: JsonPropertyName("sd_checkpoint")] string? SdCheckpoint,
    [property: JsonPropertyName("sd_checkpoint_name")] string? SdCheckpointName,
    [property: JsonPropertyName("shape")] long Shape,
    [property: JsonPropertyName("vectors")] long Vectors);

public sealed record EmbeddingsResponse(
    [property: JsonPropertyName("loaded")] IReadOnlyDictionary<string, EmbeddingItem> Loaded,
    [property: JsonPropertyName("skipped")] IReadOnlyDictionary<string, EmbeddingItem> Skipped);

public sealed record PromptStyleItem(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("prompt")] string? Prompt,
    [property: JsonPropertyName("negative_prompt")] string? NegativePrompt);

public sealed record SdVaeItem(
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("filename")] string Filename);

public sealed record UpscalerItem(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("model_name")] string? ModelName,
    [property: JsonPropertyName("model_path")] string? ModelPath,
    [property: JsonPropertyName("model_url")] string? ModelUrl,
    [property: JsonPropertyName("scale")] double? Scale);

public sealed record LatentUpscalerModeItem([property: JsonPropertyName("name")] string Name);

public sealed record MemoryResponse(
    [property: JsonPropertyName("ram")] IReadOnlyDictionary<string, object> Ram,
    [property: JsonPropertyName("cuda")] IReadOnlyDictionary<string, object> Cuda);

public sealed record ScriptsList(
    [property: JsonPropertyName("txt2img")] IReadOnlyList<string> Txt2Img,
    [property: JsonPropertyName("img2img")] IReadOnlyList<string> Img2Img);

public sealed record ScriptInfo(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("is_alwayson")] bool IsAlwaysOn,
    [property: JsonPropertyName("is_img2img")] bool IsImg2Img,
    [property: JsonPropertyName("args")] IReadOnlyList<JsonElement> Args);

public sealed record ExtensionItem(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("remote")] string Remote,
    [property: JsonPropertyName("branch")] string Branch,
    [property: JsonPropertyName("commit_hash")] string CommitHash,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("commit_date")] long CommitDate,
    [property: JsonPropertyName("enabled")] bool Enabled);

public sealed record FaceRestorerItem(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("cmd_dir")] string? CmdDir);

public sealed record HypernetworkItem(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("path")] string? Path);
