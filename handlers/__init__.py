"""One module per city service. Each defines `intent = Intent(...)` and its handlers;
bot.bootstrap registers every module found here, and content/<intent>.yaml holds its
words."""
