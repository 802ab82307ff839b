using System.Net;
using Microsoft.AspNetCore.Http;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Api;

namespace SdBlazor.Web.Tests.Api;

[Collection(SdApiCollection.Name)]
public sealed class CatalogTests
{
    [Fact]
    public async Task Sd_models_lists_every_model_with_a1111_fields_and_refresh_checkpoints_finds_new_folders()
    {
        using var factory = new SdApiFactory();
        var api = factory.Api();

        var before = (await api.GetJsonAsync("/sdapi/v1/sd-models")).Body;
        var model = Assert.Single(before.EnumerateArray());
        Assert.Equal(DefaultModel.Name, model.GetProperty("model_name").GetString());
        Assert.StartsWith(DefaultModel.Name, model.GetProperty("title").GetString());
        Assert.Equal(Path.Combine(factory.ModelsPath, DefaultModel.Name), model.GetProperty("filename").GetString());
        foreach (var field in new[] { "hash", "sha256", "config" }) Assert.True(model.TryGetProperty(field, out _), field);

        factory.AddModelLink("second-mini");
        Assert.Single((await api.GetJsonAsync("/sdapi/v1/sd-models")).Body.EnumerateArray());
        Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/sdapi/v1/refresh-checkpoints", "")).Status);
        var after = (await api.GetJsonAsync("/sdapi/v1/sd-models")).Body.EnumerateArray().Select(m => m.GetProperty("model_name").GetString()).ToList();
        Assert.Equal(["sdblazor-mini", "second-mini"], after.Order());
    }

    [Fact]
    public async Task Options_select_the_checkpoint_for_later_requests_and_the_choice_survives_a_restart()
    {
        var data = Directory.CreateTempSubdirectory("sdapi-restart-").FullName;
        try
        {
            using (var factory = SdApiFactory.OnDataFolder(data))
            {
                factory.AddModelLink("second-mini");
                var api = factory.Api();
                Assert.Equal(DefaultModel.Name, (await api.GetJsonAsync("/sdapi/v1/options")).Body.GetProperty("sd_model_checkpoint").GetString());

                var set = await api.PostJsonAsync("/sdapi/v1/options", """{"sd_model_checkpoint": "second-mini", "CLIP_stop_at_last_layers": 1}""");
                Assert.Equal(HttpStatusCode.OK, set.Status);
                var reply = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "which model", "steps": 1}""");
                Assert.Equal("second-mini", reply.Info.GetProperty("sd_model_name").GetString());
                Assert.Contains("Model: second-mini", Png.Parameters(reply.Images[0]));
                var options = (await api.GetJsonAsync("/sdapi/v1/options")).Body;
                Assert.Matches(@"^second-mini \[[0-9a-f]{10}\]$", options.GetProperty("sd_model_checkpoint").GetString());
            }

            using var restarted = SdApiFactory.OnDataFolder(data);
            restarted.AddModelLink("second-mini");
            var again = (await restarted.Api().GetJsonAsync("/sdapi/v1/options")).Body;
            Assert.StartsWith("second-mini", again.GetProperty("sd_model_checkpoint").GetString());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Samplers_and_schedulers_list_a1111_names_aliases_and_options()
    {
        using var factory = new SdApiFactory();
        var api = factory.Api();

        var samplers = (await api.GetJsonAsync("/sdapi/v1/samplers")).Body.EnumerateArray().ToList();
        Assert.Equal(["Euler", "Euler a", "DDIM", "LMS", "Heun", "DPM++ 2M", "DPM++ 2M SDE", "LCM"], samplers.Select(s => s.GetProperty("name").GetString()));
        var eulerA = samplers.Single(s => s.GetProperty("name").GetString() == "Euler a");
        Assert.Contains("k_euler_a", eulerA.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(JsonValueKind.Object, eulerA.GetProperty("options").ValueKind);

        var schedulers = (await api.GetJsonAsync("/sdapi/v1/schedulers")).Body.EnumerateArray().ToList();
        Assert.Equal(["Automatic", "Karras"], schedulers.Select(s => s.GetProperty("label").GetString()));
        Assert.Equal(["automatic", "karras"], schedulers.Select(s => s.GetProperty("name").GetString()));

        // An alias works wherever a sampler name does.
        var reply = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "alias", "steps": 2, "sampler_name": "k_dpmpp_2m_ka"}""");
        Assert.Contains("Sampler: DPM++ 2M, Schedule type: Karras,", Png.Parameters(reply.Images[0]));
    }

    [Fact]
    public async Task Png_info_returns_the_parameters_text_items_and_parsed_fields_of_a_generated_image()
    {
        using var factory = new SdApiFactory();
        var api = factory.Api();
        var generated = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "a tree, at night", "negative_prompt": "blurry", "seed": 9, "steps": 2}""");

        var reply = await api.PostJsonAsync("/sdapi/v1/png-info",
            JsonSerializer.Serialize(new { image = "data:image/png;base64," + Convert.ToBase64String(generated.Images[0]) }));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(Png.Parameters(generated.Images[0]), reply.Body.GetProperty("info").GetString());
        Assert.Equal(JsonValueKind.Object, reply.Body.GetProperty("items").ValueKind);
        var parameters = reply.Body.GetProperty("parameters");
        Assert.Equal("a tree, at night", parameters.GetProperty("Prompt").GetString());
        Assert.Equal("blurry", parameters.GetProperty("Negative prompt").GetString());
        Assert.Equal("9", parameters.GetProperty("Seed").GetString());
        Assert.Equal("2", parameters.GetProperty("Steps").GetString());
        Assert.Equal(generated.Info.GetProperty("width").GetInt32().ToString(), parameters.GetProperty("Size-1").GetString());

        var plain = await api.PostJsonAsync("/sdapi/v1/png-info", JsonSerializer.Serialize(new { image = Convert.ToBase64String(Png.Gradient(8, 8)) }));
        Assert.Equal("", plain.Body.GetProperty("info").GetString());
    }

    [Fact]
    public async Task Openapi_document_describes_every_endpoint_and_the_interactive_page_is_served()
    {
        using var factory = new SdApiFactory();
        var api = factory.Api();

        var document = await api.GetJsonAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, document.Status);
        var paths = document.Body.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var path in new[] { "txt2img", "img2img", "progress", "interrupt", "skip", "sd-models", "refresh-checkpoints", "samplers", "schedulers", "options", "png-info" })
            Assert.Contains("/sdapi/v1/" + path, paths);
        Assert.Contains("/api/jobs", paths.Select(p => p.TrimEnd('/')));
        var txt2img = document.Body.GetProperty("paths").GetProperty("/sdapi/v1/txt2img").GetProperty("post");
        Assert.True(txt2img.GetProperty("responses").TryGetProperty("422", out _));
        var schemas = document.Body.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("Txt2ImgRequest").GetProperty("properties").TryGetProperty("negative_prompt", out _));

        using var page = await api.GetAsync(ApiDocumentation.PagePath);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("text/html", page.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task When_credentials_are_required_the_api_takes_http_basic_like_a1111_api_auth()
    {
        using var factory = new SdApiFactory { ConfigureTestServices = s => s.AddSingleton<ISdApiCredentials>(new FixedCredentials()) };
        var api = factory.Api();

        var anonymous = await api.GetJsonAsync("/sdapi/v1/samplers");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Status);
        Assert.Equal("Incorrect username or password", anonymous.Body.GetProperty("detail").GetString());

        api.UseBasicAuth("user", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetJsonAsync("/sdapi/v1/samplers")).Status);
        api.UseBasicAuth("user", "secret");
        Assert.Equal(HttpStatusCode.OK, (await api.GetJsonAsync("/sdapi/v1/samplers")).Status);
    }

    private sealed class FixedCredentials : ISdApiCredentials
    {
        public bool IsRequired(HttpContext http) => true;

        public bool IsValid(string user, string password) => user == "user" && password == "secret";
    }
}
