using System.Net;
using System.Text.Json;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Engine.Tests.Checkpoints;
using SdBlazor.Web.Tests.Api;

namespace SdBlazor.Web.Tests.Models;

/// <summary>An app pointed at a <see cref="FakeHub"/>, with short retry delays, and helpers to import and wait.</summary>
internal static class ModelImportHarness
{
    public static SdApiFactory Factory(FakeHub hub, string? token = null, string? dataPath = null)
    {
        var factory = dataPath is null ? new SdApiFactory() : SdApiFactory.OnDataFolder(dataPath);
        factory.Settings["Models:HuggingFaceEndpoint"] = hub.Endpoint.ToString();
        factory.Settings["Models:HuggingFaceToken"] = token ?? "";
        factory.Settings["Models:RetryDelayMilliseconds"] = "20";
        factory.Settings["Models:MaxRetries"] = "3";
        factory.Settings["Models:MinFreeDiskBytes"] = "0";
        factory.Settings["Models:AllowHttpUrls"] = "true";
        factory.Settings["Engine:PreloadDefaultModel"] = "false";
        factory.Settings["Engine:ArchitecturesPath"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures");
        factory.Settings["Engine:CheckpointCachePath"] = Path.Combine(factory.Root, "checkpoint-cache");
        return factory;
    }

    /// <summary>A real SD 1.5-layout checkpoint (tiny graph set), as bytes a repo can serve.</summary>
    public static byte[] Sd15Checkpoint()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sd15-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafetensorsWriter.Write(path, TestCheckpoints.ForGraphSet(GraphSet.Load(TestCheckpoints.GraphSetPath("sd15-tiny")), "sd15", new TestCheckpoints.Options(DType: "F16")));
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static async Task<string> StartAsync(HttpClient api, string json)
    {
        var reply = await api.PostJsonAsync("/api/models/import", json);
        Assert.True(reply.Status == HttpStatusCode.Accepted, $"{(int)reply.Status}: {reply.Text}");
        return reply.Body.GetProperty("id").GetString()!;
    }

    public static async Task<JsonElement> WaitAsync(HttpClient api, string id, Func<JsonElement, bool>? until = null, int seconds = 90)
    {
        until ??= s => s.GetProperty("state").GetString() is "done" or "failed" or "cancelled";
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var status = (await api.GetJsonAsync($"/api/models/import/{id}")).Body;
            if (until(status)) return status;
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"Import {id} did not get there in {seconds} s: {status}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// A fresh app on <paramref name="dataPath"/> finishes import <paramref name="id"/> by itself with one Range request
    /// from the <paramref name="kept"/> bytes on disk, byte-identical and listed (the restart and the kill tests).
    /// </summary>
    public static async Task AssertResumesAfterStartAsync(FakeHub hub, string dataPath, string id, byte[] data, long kept, int before)
    {
        using var second = Factory(hub, dataPath: dataPath);
        var client = second.Api();
        var status = await WaitAsync(client, id);
        Assert.True(State(status) == "done", status.ToString());
        var resumed = hub.StorageRequests.Skip(before).ToList();
        Assert.Equal($"bytes={kept}-", Assert.Single(resumed).Range);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(second.ModelsPath, "survivor.safetensors")));
        Assert.NotNull(await ListedAsync(client, "survivor"));
    }

    public static string State(JsonElement status) => status.GetProperty("state").GetString()!;

    public static string? Error(JsonElement status) => status.GetProperty("error").GetString();

    public static async Task<JsonElement?> ListedAsync(HttpClient api, string name) =>
        (await api.GetJsonAsync("/sdapi/v1/sd-models")).Body.EnumerateArray().Cast<JsonElement?>().FirstOrDefault(m => m!.Value.GetProperty("model_name").GetString() == name);
}
