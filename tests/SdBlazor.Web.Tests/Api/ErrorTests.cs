using System.Net;
using System.Text.Json;

namespace SdBlazor.Web.Tests.Api;

/// <summary>Failures answer what A1111 clients understand: FastAPI's 422 detail list, 404 for unknown names, 413 for size, never a stack trace.</summary>
[Collection(SdApiCollection.Name)]
public sealed class ErrorTests : IClassFixture<ErrorTests.SmallBodyFactory>
{
    private readonly SmallBodyFactory _factory;

    public ErrorTests(SmallBodyFactory factory) => _factory = factory;

    public sealed class SmallBodyFactory : SdApiFactory
    {
        public const int Limit = 256 * 1024;

        public SmallBodyFactory() => Settings["Api:MaxRequestBodyBytes"] = Limit.ToString();
    }

    [Theory]
    [InlineData("""{"prompt": "x", "steps": "many"}""", "steps", "type_error.integer")]
    [InlineData("""{"prompt": "x", "cfg_scale": "high"}""", "cfg_scale", "type_error.float")]
    [InlineData("""{"prompt": "x", "steps": 500}""", "steps", "value_error")]
    [InlineData("""{"prompt": "x", "width": 100}""", "width", "value_error")]
    [InlineData("""{"prompt": "x", "n_iter": 0}""", "n_iter", "value_error")]
    [InlineData("""{"prompt": "x", "seed": -7}""", "seed", "value_error")]
    [InlineData("""{"prompt": "x", "subseed_strength": 1.5}""", "subseed_strength", "value_error")]
    [InlineData("""{"prompt": "x", "enable_hr": true, "hr_scale": 9}""", "hr_scale", "value_error")]
    [InlineData("""{"prompt": "x", "enable_hr": true, "denoising_strength": 2}""", "denoising_strength", "value_error")]
    [InlineData("""{"prompt": "x", "sampler_name": "DDIM", "scheduler": "Karras"}""", "scheduler", "value_error")]
    public async Task Bad_fields_get_422_with_fastapi_detail_naming_the_field(string body, string field, string type)
    {
        var reply = await _factory.Api().PostJsonAsync("/sdapi/v1/txt2img", body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        var detail = Assert.Single(reply.Body.GetProperty("detail").EnumerateArray());
        Assert.Equal(["body", field], detail.GetProperty("loc").EnumerateArray().Select(l => l.ToString()).ToArray());
        Assert.Equal(type, detail.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(detail.GetProperty("msg").GetString()));
    }

    [Fact]
    public async Task Several_bad_fields_are_all_reported_at_once()
    {
        var reply = await _factory.Api().PostJsonAsync("/sdapi/v1/txt2img", """{"steps": 0, "cfg_scale": 99, "batch_size": 50}""");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        var fields = reply.Body.GetProperty("detail").EnumerateArray().Select(d => d.GetProperty("loc")[1].GetString()).ToHashSet();
        Assert.Equal(["steps", "cfg_scale", "batch_size"], fields);
    }

    [Theory]
    [InlineData("{\"prompt\": ", "value_error.jsondecode")]
    [InlineData("", "value_error.missing")]
    [InlineData("[1, 2]", "type_error.dict")]
    public async Task Malformed_or_missing_bodies_get_422(string body, string type)
    {
        var reply = await _factory.Api().PostJsonAsync("/sdapi/v1/txt2img", body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, reply.Status);
        Assert.Equal(type, reply.Body.GetProperty("detail")[0].GetProperty("type").GetString());
        Assert.Equal("body", reply.Body.GetProperty("detail")[0].GetProperty("loc")[0].GetString());
    }

    [Fact]
    public async Task Unknown_sampler_and_unknown_model_get_404_like_a1111()
    {
        var api = _factory.Api();
        var sampler = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "x", "sampler_name": "DPM++ SDE"}""");
        var model = await api.PostJsonAsync("/sdapi/v1/txt2img", """{"prompt": "x", "override_settings": {"sd_model_checkpoint": "nope"}}""");
        var options = await api.PostJsonAsync("/sdapi/v1/options", """{"sd_model_checkpoint": "nope [0123456789]"}""");

        Assert.Equal(HttpStatusCode.NotFound, sampler.Status);
        Assert.Contains("DPM++ SDE", sampler.Body.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, model.Status);
        Assert.Contains(DefaultModel.Name, model.Body.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, options.Status);
    }

    [Fact]
    public async Task Oversized_body_gets_413_with_a_clear_message_even_without_content_length()
    {
        var api = _factory.Api();
        var big = $$"""{"prompt": "{{new string('a', SmallBodyFactory.Limit)}}"}""";

        var declared = await api.PostJsonAsync("/sdapi/v1/txt2img", big);
        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/sdapi/v1/img2img")
        {
            Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(big))),
        };
        chunked.Content.Headers.ContentType = new("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        using var streamed = await api.SendAsync(chunked);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.Status);
        Assert.Contains("at most 256 KB", declared.Body.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Contains("Api:MaxRequestBodyBytes", await streamed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Errors_never_carry_a_stack_trace()
    {
        var api = _factory.Api();
        var replies = new[]
        {
            await api.PostJsonAsync("/sdapi/v1/txt2img", "{ nonsense"),
            await api.PostJsonAsync("/sdapi/v1/png-info", """{"image": "bm90IGFuIGltYWdl"}"""),
            await api.PostJsonAsync("/sdapi/v1/options", """{"sd_model_checkpoint": 12}"""),
        };
        foreach (var reply in replies)
        {
            Assert.NotEqual(HttpStatusCode.InternalServerError, reply.Status);
            Assert.DoesNotContain("   at ", reply.Text);
            Assert.Equal(JsonValueKind.Object, reply.Body.ValueKind);
        }
    }
}
