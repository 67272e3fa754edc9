#!/usr/bin/env bash
# Generates the inputs of the example jobs with FFmpeg, into examples/media/.
# Safe to run again; it only makes what is missing.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p media
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }

# A semi-transparent logo (white disc and bar at 45%) and an opaque one, as PNGs with alpha.
[ -f media/logo.png ] || ff -f lavfi -i "color=c=white@0.0:s=160x80,format=rgba" \
  -vf "geq=r='255':g='255':b='255':a='if(lt(hypot(X-40,Y-40),30)+between(X,80,150)*between(Y,30,50),115,0)'" \
  -frames:v 1 media/logo.png
[ -f media/badge.png ] || ff -f lavfi -i "color=c=0xE03C31:s=200x100,format=rgba" \
  -vf "geq=r='if(between(Y,40,60),255,224)':g='if(between(Y,40,60),255,60)':b='if(between(Y,40,60),255,49)':a='255'" \
  -frames:v 1 media/badge.png

# A clean clip with texture and motion, then the same clip with the logo burned in.
[ -f media/clean.mp4 ] || ff -f lavfi -i "mandelbrot=s=1280x720:rate=30,scroll=h=0.002:v=0.001" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000" -t 6 \
  -c:v libx264 -preset veryfast -crf 16 -g 30 -pix_fmt yuv420p -c:a aac -b:a 128k media/clean.mp4
[ -f media/watermarked.mp4 ] || ff -i media/clean.mp4 -i media/logo.png \
  -filter_complex "[0:v][1:v]overlay=x=1080:y=620" -c:v libx264 -preset veryfast -crf 16 -g 30 \
  -pix_fmt yuv420p -c:a copy media/watermarked.mp4

# Compilation items: a 16:9 intro at 25 fps, a portrait phone clip at 30 fps, a still card.
[ -f media/intro.mp4 ] || ff -f lavfi -i "testsrc2=s=960x540:rate=25" \
  -f lavfi -i "sine=frequency=330:sample_rate=44100" -t 3 \
  -c:v libx264 -preset veryfast -g 25 -pix_fmt yuv420p -c:a aac media/intro.mp4
[ -f media/phone.mp4 ] || ff -f lavfi -i "life=s=360x640:rate=30:mold=10:ratio=0.1:death_color=#102030:life_color=#40C0A0,scale=720:1280:flags=neighbor" \
  -t 4 -c:v libx264 -preset veryfast -g 30 -pix_fmt yuv420p media/phone.mp4
[ -f media/card.png ] || ff -f lavfi -i "color=c=0x203050:s=1280x720" \
  -vf "drawbox=x=340:y=260:w=600:h=200:color=0xF0C040:t=fill" -frames:v 1 media/card.png
echo "example media in $(pwd)/media"
