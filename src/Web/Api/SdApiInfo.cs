using System.Security.Cryptography;
using System.Text.Json;
using SdBlazor.Web.Api.Models;

namespace SdBlazor.Web.Api;

/// <summary>
/// The <c>info</c> JSON string of a txt2img/img2img response, with the keys of A1111's <c>Processed.js()</c> in
/// its order. Values SdBlazor has no equivalent for get A1111's neutral values (no face restoration, clip skip 1).
/// </summary>
public static class SdApiInfo
{
    public static string Build(MappedRequest mapped, ApiJobOutput? output, DateTimeOffset jobStart)
    {
        var p = output?.Parameters;
        var request = mapped.Request;
        var images = output?.Images ?? [];
        var count = images.Count;
        var seed = p?.Seed ?? request.Seed;
        var subseed = p?.Subseed is >= 0 and var resolved ? resolved : mapped.Subseed == -1 ? RandomSeed() : mapped.Subseed;
        var info = new Dictionary<string, object?>
        {
            ["prompt"] = request.Prompt,
            ["all_prompts"] = Enumerable.Repeat(request.Prompt, count).ToArray(),
            ["negative_prompt"] = request.NegativePrompt,
            ["all_negative_prompts"] = Enumerable.Repeat(request.NegativePrompt, count).ToArray(),
            ["seed"] = seed,
            ["all_seeds"] = images.Select(i => i.Seed).ToArray(),
            ["subseed"] = subseed,
            ["all_subseeds"] = images.Select(i => subseed + i.Index).ToArray(),
            ["subseed_strength"] = request.SubseedStrength,
            ["width"] = p?.Width ?? request.Width ?? mapped.Model.NativeWidth,
            ["height"] = p?.Height ?? request.Height ?? mapped.Model.NativeHeight,
            ["sampler_name"] = p?.Sampler ?? request.Sampler,
            ["cfg_scale"] = p?.CfgScale ?? request.CfgScale,
            ["steps"] = p?.Steps ?? request.Steps,
            ["batch_size"] = request.BatchSize,
            ["restore_faces"] = false,
            ["face_restoration_model"] = null,
            ["sd_model_name"] = p?.Model ?? mapped.Model.Name,
            ["sd_model_hash"] = (p?.ModelSha256 ?? mapped.Model.Sha256) is { Length: >= 10 } sha ? sha[..10] : null,
            ["sd_vae_name"] = null,
            ["sd_vae_hash"] = null,
            ["seed_resize_from_w"] = request.SeedResizeFromWidth > 0 ? request.SeedResizeFromWidth : -1,
            ["seed_resize_from_h"] = request.SeedResizeFromHeight > 0 ? request.SeedResizeFromHeight : -1,
            ["denoising_strength"] = request.InitImage is null && !request.EnableHr ? null : request.Strength,
            ["extra_generation_params"] = new Dictionary<string, object?> { ["Schedule type"] = p?.ScheduleType ?? request.ScheduleType },
            ["index_of_first_image"] = 0,
            ["infotexts"] = images.Select(i => i.Infotext).ToArray(),
            ["styles"] = mapped.Echo.Styles?.ToArray() ?? [],
            ["job_timestamp"] = jobStart.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture),
            ["clip_skip"] = request.ClipSkip,
            ["is_using_inpainting_conditioning"] = false,
            ["version"] = p?.EngineVersion,
        };
        // Not an A1111 key: present only when the engine ignored part of the request (a negative prompt at CFG 1, an
        // unknown LoRA or one of another architecture), so A1111 clients otherwise see exactly A1111's keys.
        if (p?.Warnings is { Count: > 0 } warnings) info["warnings"] = warnings;
        return JsonSerializer.Serialize(info);
    }

    public static ImageResponse Response(MappedRequest mapped, ApiJobOutput? output, DateTimeOffset jobStart) => new(
        mapped.SendImages && output is not null ? output.Images.Select(i => Convert.ToBase64String(i.Png)).ToList() : [],
        mapped.Echo,
        Build(mapped, output, jobStart));

    // A1111 draws a random subseed for −1 even when variation seeds are off; same range as its seeds.
    private static long RandomSeed() => BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4)) % 4294967295L;
}
