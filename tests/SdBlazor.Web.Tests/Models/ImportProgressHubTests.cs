using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using SdBlazor.Web.Models;
using SdBlazor.Web.Tests.Api;
using static SdBlazor.Web.Tests.Models.ModelImportHarness;

namespace SdBlazor.Web.Tests.Models;

/// <summary>Import progress pushed over SignalR (<c>/hubs/models</c>) to clients outside the page: two connections see the same progress and the end.</summary>
[Collection(SdApiCollection.Name)]
public sealed class ImportProgressHubTests
{
    [Fact]
    public async Task Two_connections_see_the_same_import_progress_and_its_end()
    {
        await using var hub = await FakeHub.StartAsync();
        var data = HubImportTests.RandomBytes(3_000_000);
        hub.Add("slow/model", new FakeHub.Repo { Files = { ["big.safetensors"] = data } });
        hub.BytesPerSecond = 1_500_000;
        using var factory = Factory(hub);
        var api = factory.Api();

        var seen = new[] { new ConcurrentQueue<JsonElement>(), new ConcurrentQueue<JsonElement>() };
        var connections = new List<HubConnection>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var queue = seen[i];
                var connection = new HubConnectionBuilder()
                    .WithUrl(new Uri(factory.Server.BaseAddress, ImportProgressHub.Path), o =>
                    {
                        o.Transports = HttpTransportType.WebSockets;
                        o.SkipNegotiation = true;
                        o.HttpMessageHandlerFactory = _ => factory.Server.CreateHandler();
                        o.WebSocketFactory = async (context, ct) => await factory.Server.CreateWebSocketClient().ConnectAsync(context.Uri, ct);
                    })
                    .Build();
                connection.On<JsonElement>(ImportProgressHub.ImportChanged, e => queue.Enqueue(e));
                await connection.StartAsync();
                connections.Add(connection);
            }

            var id = await StartAsync(api, """{"source": "slow/model", "name": "pushed"}""");
            Assert.Equal("done", State(await WaitAsync(api, id)));
            var listed = await connections[0].InvokeAsync<JsonElement>("Imports");
            Assert.Contains(listed.EnumerateArray(), i => i.GetProperty("id").GetString() == id && i.GetProperty("state").GetString() == "done");

            foreach (var queue in seen)
            {
                // The final state may still be on its way (sent at most every 200 ms).
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (!queue.Any(e => e.GetProperty("state").GetString() == "done") && DateTime.UtcNow < deadline) await Task.Delay(50);
                var mine = queue.Where(e => e.GetProperty("id").GetString() == id).ToList();
                var progress = mine.Select(e => e.GetProperty("progress").GetDouble()).Distinct().ToList();
                Assert.Contains(progress, p => p is > 0 and < 1);
                Assert.Equal("done", mine[^1].GetProperty("state").GetString());
                Assert.Equal(data.Length, mine[^1].GetProperty("bytes").GetInt64());
                // Progress never goes backwards on the wire (events are sent in order).
                Assert.Equal(progress.Order(), progress);
                Assert.True(mine.Count < 60, $"{mine.Count} events for a 2 s download: not throttled");
            }
        }
        finally
        {
            foreach (var connection in connections) await connection.DisposeAsync();
        }
    }
}
