"""Shared fixtures for the segmentation tests: a tiny random-weight transformers SAM."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def hf_sam_folder(tmp_path_factory):
    from transformers import SamConfig, SamImageProcessor, SamModel, SamProcessor
    from transformers.models.sam.configuration_sam import (SamMaskDecoderConfig, SamPromptEncoderConfig,
                                                           SamVisionConfig)

    vc = SamVisionConfig(hidden_size=32, output_channels=32, num_hidden_layers=2, num_attention_heads=2, image_size=128,
                         patch_size=16, window_size=4, global_attn_indexes=[1], mlp_dim=64, num_pos_feats=16)
    pc = SamPromptEncoderConfig(hidden_size=32, image_size=128, patch_size=16, mask_input_channels=4)
    mc = SamMaskDecoderConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, mlp_dim=64, iou_head_hidden_dim=32)
    cfg = SamConfig(vision_config=vc.to_dict(), prompt_encoder_config=pc.to_dict(), mask_decoder_config=mc.to_dict())
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("hf_sam")
    SamModel(cfg).save_pretrained(folder)
    SamProcessor(SamImageProcessor(size={"longest_edge": 128}, pad_size={"height": 128, "width": 128})).save_pretrained(folder)
    return folder
