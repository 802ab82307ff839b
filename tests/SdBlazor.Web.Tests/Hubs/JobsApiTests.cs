using System.Net;
using System.Net.Http.Json;
using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Hubs;

/// <summary>The REST door onto the same queue.</summary>
public sealed class JobsApiTests
{
    [Fact]
    public async Task Invalid_requests_get_422_with_the_reason_and_valid_ones_run()
    {
        await using var app = new AppFactory();
        using var client = app.CreateClient();

        using var bad = await client.PostAsJsonAsync("/api/jobs", new GenerationRequest { Prompt = "x", Steps = 0, BatchSize = 9 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        var problem = await bad.Content.ReadAsStringAsync();
        Assert.Contains("Steps must be between 1 and 150 (got 0).", problem);
        Assert.Contains("Batch size must be between 1 and 8 (got 9).", problem);

        using var good = await client.PostAsJsonAsync("/api/jobs", new GenerationRequest { Prompt = "rest", Steps = 4 });
        Assert.Equal(HttpStatusCode.Created, good.StatusCode);
        var created = (await good.Content.ReadFromJsonAsync<JobSnapshot>())!;
        JobSnapshot? now = null;
        for (var i = 0; i < 600 && now?.Status != JobStatus.Completed; i++)
        {
            await Task.Delay(100);
            now = await client.GetFromJsonAsync<JobSnapshot>($"/api/jobs/{created.JobId}");
        }
        Assert.Equal(JobStatus.Completed, now!.Status);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/images/{now.ImageIds.Single()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/jobs/{created.JobId}")).StatusCode);
    }
}
