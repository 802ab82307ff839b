using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace SdBlazor.Web.Tests.Api;

/// <summary>
/// The whole app on a test server, with real engine, queue, worker and stores: its own temporary data folder
/// (<c>Gallery:DataPath</c>) and a temporary models folder that links the default model (so tests can add models).
/// </summary>
public class SdApiFactory : WebApplicationFactory<Program>
{
    public SdApiFactory() : this(null)
    {
    }

    /// <summary>A factory on an existing data folder (e.g. to restart on another instance's data); the folder is kept on dispose.</summary>
    public static SdApiFactory OnDataFolder(string dataPath) => new(dataPath);

    // xUnit class fixtures need exactly one public constructor.
    private SdApiFactory(string? dataPath)
    {
        Root = Directory.CreateTempSubdirectory("sdapi-tests-").FullName;
        DataPath = dataPath ?? Directory.CreateDirectory(Path.Combine(Root, "data")).FullName;
        ModelsPath = Directory.CreateDirectory(Path.Combine(Root, "models")).FullName;
        AddModelLink(DefaultModel.Name);
    }

    public string Root { get; }
    public string DataPath { get; }
    public string ModelsPath { get; }

    /// <summary>Extra settings (e.g. <c>Api:MaxRequestBodyBytes</c>) applied on top of the test defaults.</summary>
    public Dictionary<string, string?> Settings { get; } = [];

    public Action<IServiceCollection>? ConfigureTestServices { get; set; }

    /// <summary>Makes the default model also available under another name (a second "installed" model).</summary>
    public void AddModelLink(string name) => Directory.CreateSymbolicLink(Path.Combine(ModelsPath, name), DefaultModel.Folder);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Gallery:DataPath", DataPath);
        builder.UseSetting("Engine:ModelsPath", ModelsPath);
        builder.UseSetting("Engine:DefaultModel", DefaultModel.Name);
        builder.UseSetting("Engine:ExecutionProvider", "Cpu");
        builder.UseSetting("Gallery:ReconcileOnStartup", "false");
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        // TestServer requests have no remote address; these tests are the local owner (see TestRemoteAddress).
        builder.ConfigureServices(s => s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(new SdBlazor.Web.Tests.Support.TestRemoteAddress(System.Net.IPAddress.Loopback)));
        if (ConfigureTestServices is { } configure) builder.ConfigureServices(configure);
    }

    public HttpClient Api()
    {
        var client = CreateClient();
        // Generations on a shared CPU can take a while; the test's own timeouts decide.
        client.Timeout = TimeSpan.FromMinutes(5);
        return client;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A response: status and parsed JSON body (null when the body is not JSON).</summary>
public sealed record ApiReply(HttpStatusCode Status, JsonElement? Json, string Text)
{
    public JsonElement Body => Json ?? throw new Xunit.Sdk.XunitException($"Expected JSON, got {(int)Status}: {Text}");

    /// <summary>The <c>info</c> field of a txt2img/img2img response, parsed (A1111 sends it as a JSON string).</summary>
    public JsonElement Info => JsonDocument.Parse(Body.GetProperty("info").GetString()!).RootElement;

    public IReadOnlyList<byte[]> Images => [.. Body.GetProperty("images").EnumerateArray().Select(i => Convert.FromBase64String(i.GetString()!))];
}

public static class ApiClientExtensions
{
    public static async Task<ApiReply> PostJsonAsync(this HttpClient client, string path, string json, CancellationToken ct = default)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(path, content, ct);
        return await ReadAsync(response, ct);
    }

    public static async Task<ApiReply> GetJsonAsync(this HttpClient client, string path, CancellationToken ct = default)
    {
        using var response = await client.GetAsync(path, ct);
        return await ReadAsync(response, ct);
    }

    public static void UseBasicAuth(this HttpClient client, string user, string password) =>
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static async Task<ApiReply> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        JsonElement? json = null;
        try { json = JsonDocument.Parse(text).RootElement; } catch (JsonException) { }
        return new ApiReply(response.StatusCode, json, text);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SdApiCollection
{
    // The API tests generate on the CPU; running them one class at a time keeps timings (and progress polling) sane.
    public const string Name = "sdapi";
}
